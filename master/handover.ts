import type { Logger } from '../src/log/log';
import type { FlowHandOver, HandOver, SessionHandOver } from '../src/proto/ipc';
import type { DatagramGate } from './datagram-gate';
import type { Generation } from './generation';
import type { WorkerSlot } from './worker-slot';

/**
 * The master's part in a hand-over: it passes each session or flow an old generation hands over to a
 * worker of the current one, closes its own copies of the sockets once they left, and logs every
 * one that is lost on the way.
 */
export class HandOverRelay {
  /** Sessions and flows passed to a worker that has not yet said it adopted them. */
  private readonly adopting = new Map<string, { slot: WorkerSlot; from: number }>();
  /** Sessions each retiring generation handed over so far, by generation. */
  private readonly handedOver = new Map<number, number>();
  private nextTarget = 0;

  constructor(
    private readonly log: Logger,
    private readonly gate: DatagramGate,
    /** The generation that adopts: the current one. */
    private readonly current: () => Generation | undefined,
    /** A session or flow went to a worker of the current generation (for the metrics). */
    private readonly passed: (kind: 'session' | 'flow') => void = () => {},
  ) {}

  /** Generation `old` starts handing over. */
  begin(old: number): void {
    this.handedOver.set(old, 0);
  }

  /** Generation `old` exited: how many sessions it handed over. */
  end(old: number): number {
    const n = this.handedOver.get(old) ?? 0;
    this.handedOver.delete(old);
    return n;
  }

  /** A hand-over from a worker of generation `from`. */
  relay(from: number, handOver: HandOver, sockets: object[]): void {
    if ('flow' in handOver) this.relayFlow(handOver, sockets);
    else this.relaySession(from, handOver, sockets);
  }

  /** A worker said it took one (or, for a flow, closed it). */
  adopted(id: string, closed: boolean): void {
    this.adopting.delete(id);
    this.gate.settled(id, closed ? 'closed' : 'adopted');
  }

  /** A worker of the current generation died with hand-overs it had not yet taken: each is logged. */
  exited(slot: WorkerSlot): void {
    this.gate.exited(slot);
    for (const [id, { slot: target, from }] of this.adopting) {
      if (target !== slot) continue;
      this.adopting.delete(id);
      this.gate.settled(id, 'lost');
      this.log.error({ id, from, group: slot.group }, 'handed-over session lost: the new worker died while taking it');
    }
  }

  /** To the workers of the current generation in turn. */
  private relaySession(from: number, handOver: SessionHandOver, sockets: object[]): void {
    const target = this.pickTarget();
    const about = { id: handOver.id, from };
    if (target === undefined) {
      this.log.error(about, 'handed-over session lost: no worker of the current generation to take it');
      return close(sockets);
    }
    // Counted now: the old generation may exit before the new worker has the session (a loss is logged).
    const n = this.handedOver.get(from);
    if (n !== undefined) this.handedOver.set(from, n + 1);
    target.adopt(handOver, sockets, (ok) => {
      close(sockets);
      if (!ok) return this.log.error({ ...about, group: target.group }, 'handed-over session lost: the new worker could not take it');
      this.adopting.set(handOver.id, { slot: target, from });
      this.passed('session');
    });
  }

  /** To the worker of the current generation whose thread owns the flow's key, naming that thread. */
  private relayFlow(handOver: FlowHandOver, sockets: object[]): void {
    const { id, flow } = handOver;
    this.gate.relayed(id);
    const current = this.current();
    const at = current === undefined ? undefined : current.owners.threads[current.owners.ownerOf(flow.key)];
    const target = at === undefined ? undefined : current?.slots[at.group];
    const about = { id, client: `${flow.client.address}:${flow.client.port}`, frontend: flow.frontend, generations: flow.generations };
    if (target?.pid === undefined) {
      this.log.error(about, 'handed-over flow lost: no worker of the current generation to take it');
      this.gate.settled(id, 'lost');
      return close(sockets);
    }
    target.adopt({ ...handOver, thread: at!.thread }, sockets, (ok) => {
      close(sockets);
      if (ok) {
        this.adopting.set(id, { slot: target, from: flow.generations.at(-1)! });
        return this.passed('flow');
      }
      this.log.error({ ...about, group: target.group }, 'handed-over flow lost: the new worker could not take it');
      this.gate.settled(id, 'lost');
    });
  }

  private pickTarget(): WorkerSlot | undefined {
    const slots = this.current()?.slots ?? [];
    for (let k = 0; k < slots.length; k++) {
      const slot = slots[this.nextTarget++ % slots.length];
      if (slot.pid !== undefined) return slot;
    }
    return undefined;
  }
}

/** The master's copies: the sockets live on in the messages that carried them. */
function close(sockets: object[]): void {
  for (const socket of sockets) (socket as { close(): void }).close();
}
