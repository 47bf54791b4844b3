import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Backend } from '../backend';
import type { BindConfig, FrontendConfig } from '../config/types';
import type { SocketRef } from '../ipc';
import { fdOf } from '../handles';
import type { Logger } from '../log';
import { shareOf } from '../share';
import { noDatagrams, type DatagramCounters } from './counters';
import { pauseReading, resumeReading } from './dgram-handle';
import { Flow, type FlowOwner } from './flow';
import type { FlowEnvelope } from './flow-envelope';
import { ALONE, flowKey } from './flow-key';
import { FlowRate } from './flow-rate';

/**
 * The datagram handler of one UDP frontend in the thread that reads its sockets: the flow table,
 * keyed by receiver and flow key (flow-key.ts), without locks since only this thread touches it.
 */
export class DatagramHandler implements FlowOwner {
  readonly counters: DatagramCounters = noDatagrams();
  private readonly flows = new Map<string, Flow>();
  /** Every live flow, those that stand alone too, and the socket its replies leave through. */
  private readonly sockets = new Map<Flow, Socket>();
  /** By bind key. */
  private readonly receivers = new Map<string, Socket>();
  /** Whether the receivers are read: not before the master says so (see DatagramGate), nor after stop. */
  private reading = false;
  /** This thread's share of maxFlowRate (see shareOf); undefined: no limit. */
  private readonly rate: FlowRate | undefined;

  constructor(
    readonly config: FrontendConfig,
    private readonly backend: Backend,
    private readonly log: Logger,
    threads: number,
    /** Told after each flow that ends, so that a stopping thread knows when it has drained. */
    private readonly flowEnded: () => void,
  ) {
    this.rate = config.maxFlowRate === undefined ? undefined : new FlowRate(shareOf(config.maxFlowRate, threads));
  }

  /** Live flows, those that stand alone included: a stopping thread has drained when none is left. */
  get size(): number {
    return this.sockets.size;
  }

  /**
   * Takes a UDP socket received from the master (a handle, or its fd number in a worker thread); it
   * is read once `read` is called.
   */
  open(bind: BindConfig, target: SocketRef, ready: () => void): void {
    if (bind.address.kind !== 'udp') throw new Error(`${bind.text} is not a UDP bind`);
    const socket = createSocket(bind.address.family === 6 ? 'udp6' : 'udp4');
    socket.on('message', (data, client) => this.fromClient(bind, socket, data, client));
    socket.on('error', (err) => this.log.warn({ bind: bind.text, err: err.message }, 'UDP receive failed'));
    // Without `exclusive`, a cluster worker's bind asks the primary for the socket, which would open
    // this process's fd number in the master's own table.
    socket.bind({ fd: fdOf(target), exclusive: true }, ready);
    // bind() with an fd starts reading at once, but no datagram is read before the event loop runs.
    if (!this.reading) pauseReading(socket);
    this.receivers.set(bind.key, socket);
  }

  read(): void {
    if (this.reading) return;
    this.reading = true;
    for (const socket of this.receivers.values()) resumeReading(socket);
  }

  /** Stops reading, but keeps the sockets: replies of the flows that stay here still leave through them. */
  stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    for (const socket of this.receivers.values()) pauseReading(socket);
  }

  /** The live flows, to hand over to the next generation. */
  live(): Flow[] {
    return [...this.flows.values()];
  }

  /**
   * Carries on a flow an older generation handed over, over its upstream fd; says why not when the
   * configuration no longer fits it (the caller closes the fd, and the client's next datagram starts
   * a new flow).
   */
  adopt(e: FlowEnvelope, fd: number): Flow | string {
    const socket = this.receivers.get(e.bind);
    if (socket === undefined) return 'the frontend no longer has its bind';
    const server = this.backend.servers.find((s) => s.name === e.server.name);
    if (server === undefined) return `backend ${this.backend.name} no longer has server ${e.server.name}`;
    if (server.address !== e.server.address || server.port !== e.server.port) return `server ${e.server.name} moved to ${server.address}:${server.port}`;
    if (this.flows.has(e.key)) return 'the client has started a new flow meanwhile';
    const counters = { startedAt: e.startedAt, in: e.in, out: e.out };
    const flow = new Flow(e.key, e.bind, e.client, server, this.config.timeout.flow, this, { adopted: { fd, counters, generations: e.generations } });
    this.flows.set(e.key, flow);
    this.sockets.set(flow, socket);
    this.counters.flows++;
    this.backend.current++;
    return flow;
  }

  reply(flow: Flow, data: Buffer): void {
    const socket = this.sockets.get(flow);
    if (socket === undefined) return;
    this.counters.out++;
    socket.send(data, flow.client.port, flow.client.address);
  }

  dropped(): void {
    this.counters.dropped++;
  }

  ended(flow: Flow): void {
    if (flow.key !== ALONE) this.flows.delete(flow.key);
    this.sockets.delete(flow);
    this.counters.flows--;
    this.backend.current--;
    this.flowEnded();
  }

  /** Ends every flow and stops reading: the master's socket lives on for the next generation. */
  close(): void {
    for (const flow of [...this.sockets.keys()]) flow.close();
    for (const socket of this.receivers.values()) socket.close();
    this.receivers.clear();
  }

  private fromClient(bind: BindConfig, socket: Socket, data: Buffer, client: RemoteInfo): void {
    this.counters.in++;
    const key = flowKey(this.config, bind, data, client);
    if (key === undefined) return void this.counters.malformed++;
    // The table never holds ALONE: such a datagram always makes a new flow.
    const flow = this.flows.get(key) ?? this.newFlow(bind, key, socket, client);
    if (flow === undefined) return;
    flow.client = client;
    flow.forward(data);
  }

  /**
   * A flow past maxFlows (flows that stand alone count too), past maxFlowRate, or with no usable
   * server, is not created: the datagram is dropped and counted.
   */
  private newFlow(bind: BindConfig, key: string, socket: Socket, client: RemoteInfo): Flow | undefined {
    if (this.sockets.size >= this.config.maxFlows) return void this.dropped();
    if (this.rate !== undefined && !this.rate.take()) return void this.counters.rateLimited++;
    const server = this.backend.pick(new Set(), { client: client.address });
    if (server === undefined) return void this.dropped();
    const flow = new Flow(key, bind.key, client, server, this.config.timeout.flow, this, { once: key === ALONE });
    if (key !== ALONE) this.flows.set(key, flow);
    this.sockets.set(flow, socket);
    this.counters.flows++;
    this.counters.flowsTotal++;
    this.backend.current++;
    this.backend.total++;
    return flow;
  }
}
