import type { MessagePort } from 'node:worker_threads';
import type { Backend } from '../backend/backend';
import type { Config, FrontendConfig } from '../config/types';
import { closeRef, fdOf } from '../conn/handles';
import type { Logger } from '../log/log';
import type { FlowEnvelope } from '../proto/flow-envelope';
import type { SocketRef } from '../proto/ipc';
import type { Flow } from './flow';
import { DatagramHandler } from './handler';
import { decodeBatch } from './redispatch-packet';
import type { ThreadId } from './owner';
import { Redispatcher, type ToGroup } from './redispatcher';

/** Sends a flow's upstream socket on, and its flow socket when it has one; resolves with whether they left. */
export type SendFlow = (envelope: FlowEnvelope, sockets: object[]) => Promise<boolean>;

/**
 * The UDP frontends of one thread: a datagram handler each, the redispatch of datagrams between the
 * threads of the generation, and the hand-over of flows to the next generation.
 */
export class DatagramHandlers {
  private readonly byName = new Map<string, DatagramHandler>();
  /** Every frontend's name by its index in the configuration (how other threads name it); UDP or not. */
  private readonly names: string[];
  private readonly peers: Redispatcher;
  /** Stopping with a next generation: flows adopted meanwhile pass on at once. */
  private handingOver = false;
  private stopping = false;
  /** Hard stop: a flow whose hand-over fails ends rather than stays. */
  private killed = false;

  constructor(
    config: Config,
    id: ThreadId,
    backends: ReadonlyMap<string, Backend>,
    ports: readonly (MessagePort | null)[],
    toGroup: ToGroup,
    private readonly log: Logger,
    /** Told after each flow that ends, so that a stopping thread knows when it has drained. */
    flowEnded: () => void,
  ) {
    const { groups, threads: perGroup } = config.global;
    this.peers = new Redispatcher(id, groups, perGroup, ports, toGroup);
    for (const port of ports) port?.on('message', (packet: Uint8Array) => this.fromThread(packet));
    const frontends = Object.values(config.frontends);
    this.names = frontends.map((f) => f.name);
    for (const [index, fc] of frontends.entries()) {
      if (fc.mode !== 'udp') continue;
      this.byName.set(fc.name, new DatagramHandler(fc, index, backends.get(fc.backend)!, groups * perGroup, this.peers, log, flowEnded));
    }
  }

  get(name: string): DatagramHandler | undefined {
    return this.byName.get(name);
  }

  /** Every UDP bind with its handler, for the thread to open on the master's sockets. */
  binds(): { bind: FrontendConfig['bind'][number]; handler: DatagramHandler }[] {
    return [...this.byName.values()].flatMap((handler) => handler.config.bind.map((bind) => ({ bind, handler })));
  }

  /** Live flows of every frontend: a stopping thread has drained when none is left. */
  get size(): number {
    let n = 0;
    for (const handler of this.byName.values()) n += handler.size;
    return n;
  }

  read(): void {
    if (!this.stopping) for (const handler of this.byName.values()) handler.read();
  }

  /** Stops reading; without a next generation, every flow ends and the sockets close. */
  stop(handOver: boolean): void {
    this.stopping = true;
    this.handingOver = handOver;
    if (!handOver) return this.close();
    for (const handler of this.byName.values()) handler.stopReading();
  }

  /** The hard stop: every flow ends but those on their way out, which end if their hand-over fails. */
  kill(): void {
    this.killed = true;
    this.close();
  }

  private close(): void {
    for (const handler of this.byName.values()) handler.close();
  }

  /** A batch of datagrams redispatched here by another thread, of this group or another. */
  fromThread(packet: Uint8Array): void {
    const batch = decodeBatch(packet);
    if (typeof batch === 'string') return this.log.warn({ reason: batch }, 'redispatched datagrams refused: malformed');
    const handler = this.at(batch.frontend);
    if (handler === undefined) return this.log.warn({ frontend: batch.frontend }, 'redispatched datagrams refused: no UDP frontend at that index');
    for (const d of batch.datagrams) handler.fromThread(d);
  }

  /** Datagrams this thread redispatched to another group that could not be sent there. */
  undelivered(frontend: number, datagrams: number): void {
    this.at(frontend)?.undelivered(datagrams);
  }

  private at(index: number): DatagramHandler | undefined {
    const name = this.names[index];
    return name === undefined ? undefined : this.byName.get(name);
  }

  /**
   * Hands every flow over to the next generation (once every thread of the generation is quiet:
   * master/datagram-gate.ts). A flow whose upstream is still connecting, or whose hand-over fails,
   * stays here: it ends when it idles out, or at the hard stop.
   */
  handOver(generation: number, send: SendFlow): void {
    for (const handler of this.byName.values()) {
      for (const flow of handler.live()) this.handOverFlow(handler, flow, generation, send);
    }
  }

  private handOverFlow(handler: DatagramHandler, flow: Flow, generation: number, send: SendFlow): void {
    const leaving = flow.handOver(handler.config.name, generation);
    if (leaving === undefined) return;
    const own = handler.flowSocketOf(flow);
    void send(leaving.envelope, [leaving.upstream, ...(own === undefined ? [] : [own.leave()])]).then((ok) => {
      if (ok) return handler.handedOver(flow);
      flow.stay();
      own?.stay();
      if (this.killed) flow.close();
    });
  }

  /**
   * Takes a flow an older generation handed over, with its upstream socket (and its flow socket); false when it was closed
   * instead (logged with the reason). A thread that is itself handing over passes it on at once.
   */
  adopt(e: FlowEnvelope, [upstream, own]: readonly (SocketRef | undefined)[], generation: number, send: SendFlow): boolean {
    const about = { client: `${e.client.address}:${e.client.port}`, frontend: e.frontend, server: e.server.name, generations: e.generations };
    if (upstream === undefined) {
      this.log.error(about, 'handed-over flow lost: no upstream socket came with it');
      return false;
    }
    const handler = this.byName.get(e.frontend);
    if (handler === undefined && own !== undefined) closeRef(own);
    const flow = handler === undefined ? `frontend ${e.frontend} is gone or no longer UDP` : handler.adopt(e, fdOf(upstream), own === undefined ? undefined : fdOf(own));
    if (typeof flow === 'string') {
      closeRef(upstream);
      this.log.warn({ ...about, reason: flow, in: e.in, out: e.out, ageMs: Date.now() - e.startedAt }, `handed-over flow closed: ${flow}`);
      return false;
    }
    if (this.handingOver) this.handOverFlow(handler!, flow, generation, send);
    else if (this.stopping) flow.close();
    return true;
  }
}
