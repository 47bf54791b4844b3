import type { FlowEnvelope } from '../src/proto/flow-envelope';
import type { FromThread } from '../src/proto/ipc';
import type { ServiceContext } from '../src/services';

/**
 * What one thread has handed over and not yet heard of: the id of each hand-over is minted here, and
 * the coordinator answers whether its sockets left; only then are this thread's copies closed.
 */
export class Departures {
  private readonly pending = new Map<string, (ok: boolean) => void>();
  private next = 0;
  /** Sessions whose sockets left. */
  sessions = 0;

  constructor(
    private readonly id: ServiceContext,
    private readonly up: (msg: FromThread, sockets: object[]) => void,
  ) {}

  /** Sends a session's or a flow's sockets on; resolves with whether they left. */
  send(what: { session: string } | { flow: FlowEnvelope }, sockets: object[]): Promise<boolean> {
    const { generation, group, thread } = this.id;
    const id = `${generation}.${group}.${thread}.${this.next++}`;
    return new Promise((left) => {
      this.pending.set(id, (ok) => {
        if (ok && 'session' in what) this.sessions++;
        left(ok);
      });
      this.up({ type: 'handOver', handOver: { id, ...what } }, sockets);
    });
  }

  /** The coordinator's answer for one hand-over. */
  settled(id: string, ok: boolean): void {
    const done = this.pending.get(id);
    this.pending.delete(id);
    done?.(ok);
  }
}
