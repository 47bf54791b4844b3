import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { closeSync } from 'node:fs';
import type { Backend } from '../backend/backend';
import type { BindConfig, FrontendConfig } from '../config/types';
import type { SocketRef } from '../proto/ipc';
import { fdOf } from '../conn/handles';
import type { Logger } from '../log/log';
import { shareOf } from '../lib/share';
import { noDatagrams } from './counters';
import type { DatagramCounters } from '../proto/snapshot';
import { pauseReading, resumeReading } from './dgram-handle';
import { Flow, type FlowOwner } from './flow';
import { FlowSocket, type FlowSocketOwner } from './flow-socket';
import type { FlowEnvelope } from '../proto/flow-envelope';
import { ALONE, flowKey } from './flow-key';
import { FlowRate } from './flow-rate';
import type { Redispatched } from './redispatch-packet';
import type { Redispatcher } from './redispatcher';

/**
 * The datagram handler of one UDP frontend in one thread. Every thread reads every socket of the
 * frontend, but each flow belongs to one thread (the owner of its key, flow-key.ts): a datagram read
 * elsewhere is redispatched there. The flow table holds this thread's flows only, without locks.
 */
export class DatagramHandler implements FlowOwner {
  readonly counters: DatagramCounters = noDatagrams();
  private readonly flows = new Map<string, Flow>();
  /** Flows handed over to the next generation, by key: late datagrams still go on through them. */
  private readonly moved = new Map<string, Flow>();
  /** Every live flow, those that stand alone too, and the socket its replies leave through. */
  private readonly sockets = new Map<Flow, Socket>();
  /** Flows keyed by client address: their own sockets, connected to the client (flow-socket.ts). */
  private readonly flowSockets = new Map<Flow, FlowSocket>();
  /**
   * Flow sockets that came with flows this thread could not carry on (their server is gone): the
   * client's datagrams queued there start the key's next flow, which takes the socket.
   */
  private readonly spare = new Map<string, FlowSocket>();
  /** This thread's dup of each bind's socket, by the bind's index in the frontend. */
  private readonly receivers = new Map<number, Socket>();
  /** Whether the receivers are read: not before the master says so (see DatagramGate), nor after stop. */
  private reading = false;
  private closed = false;
  /** This thread's share of maxFlows: each thread owns its flows alone. */
  private readonly maxFlows: number;
  /** This thread's share of maxFlowRate; undefined: no limit. */
  private readonly rate: FlowRate | undefined;

  constructor(
    readonly config: FrontendConfig,
    /** The frontend's index in the configuration: how other threads name it. */
    private readonly index: number,
    private readonly backend: Backend,
    /** Every thread of the generation, over which the limits are shared. */
    threads: number,
    private readonly peers: Redispatcher,
    private readonly log: Logger,
    /** Told after each flow that ends, so that a stopping thread knows when it has drained. */
    private readonly flowEnded: () => void,
  ) {
    this.maxFlows = shareOf(config.maxFlows, threads);
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
    const index = this.config.bind.indexOf(bind);
    socket.on('message', (data, client) => this.fromClient(bind, index, data, client));
    socket.on('error', (err) => this.log.warn({ bind: bind.text, err: err.message }, 'UDP receive failed'));
    // Without `exclusive`, a cluster worker's bind asks the primary for the socket, which would open
    // this process's fd number in the master's own table.
    socket.bind({ fd: fdOf(target), exclusive: true }, ready);
    // bind() with an fd starts reading at once, but no datagram is read before the event loop runs.
    if (!this.reading) pauseReading(socket);
    this.receivers.set(index, socket);
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
    // What the clients send meanwhile waits in the flow sockets, which move with their flows.
    for (const own of this.flowSockets.values()) own.leave();
  }

  /** The next generation took the flow, and its flow socket: this copy of that socket goes. */
  handedOver(flow: Flow): void {
    this.flowSockets.get(flow)?.close();
    this.flowSockets.delete(flow);
    flow.handedOver();
    this.moved.set(flow.key, flow);
  }

  /** The live flows, to hand over to the next generation. */
  live(): Flow[] {
    return [...this.flows.values()];
  }

  /** A flow's socket connected to its client, which goes with the flow on a hand-over (undefined: it has none). */
  flowSocketOf(flow: Flow): FlowSocket | undefined {
    return this.flowSockets.get(flow);
  }

  /**
   * Carries on a flow an older generation handed over, over its upstream fd; says why not when the
   * configuration no longer fits it (the caller closes the fd, and the client's next datagram starts
   * a new flow).
   */
  adopt(e: FlowEnvelope, fd: number, clientFd?: number): Flow | string {
    const index = this.config.bind.findIndex((b) => b.key === e.bind);
    const socket = this.receivers.get(index);
    if (socket === undefined) {
      if (clientFd !== undefined) closeSync(clientFd);
      return 'the frontend no longer has its bind';
    }
    const own = clientFd === undefined ? undefined : FlowSocket.adopt(familyOf(this.config.bind[index]), clientFd, e.client, this.flowSocketOwner(index, e.key));
    const flow = this.carryOn(e, fd, socket);
    if (own !== undefined && typeof flow !== 'string') this.flowSockets.set(flow, own);
    else if (own !== undefined) this.keepSpare(e.key, own);
    return flow;
  }

  private carryOn(e: FlowEnvelope, fd: number, socket: Socket): Flow | string {
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

  /** A datagram another thread read for a flow this thread owns: handled as if read here. */
  fromThread(d: Redispatched): void {
    const socket = this.receivers.get(d.bind);
    if (this.closed || socket === undefined) return this.undelivered();
    this.counters.fromThreads++;
    const client = { address: d.client.address, port: d.client.port, family: d.client.family === 6 ? 'IPv6' : 'IPv4', size: d.data.length } as const;
    this.own(this.config.bind[d.bind], d.key, socket, Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength), client);
  }

  /** Redispatched datagrams lost on their way to or at their owner. */
  undelivered(datagrams = 1): void {
    this.counters.redispatchDropped += datagrams;
  }

  reply(flow: Flow, data: Buffer): void {
    const socket = this.sockets.get(flow);
    if (socket === undefined) return;
    this.counters.out++;
    const own = this.flowSockets.get(flow);
    if (own?.ready) own.send(data);
    else socket.send(data, flow.client.port, flow.client.address);
  }

  dropped(): void {
    this.counters.dropped++;
  }

  ended(flow: Flow): void {
    if (flow.key !== ALONE) this.flows.delete(flow.key);
    this.flowSockets.get(flow)?.close();
    this.flowSockets.delete(flow);
    this.sockets.delete(flow);
    this.counters.flows--;
    this.backend.current--;
    this.flowEnded();
  }

  /** Ends every flow and stops reading: the master's socket lives on for the next generation. */
  close(): void {
    this.closed = true;
    for (const flow of [...this.sockets.keys(), ...this.moved.values()]) flow.close();
    this.moved.clear();
    for (const socket of this.receivers.values()) socket.close();
    this.receivers.clear();
    for (const own of this.spare.values()) own.close();
    this.spare.clear();
  }

  private fromClient(bind: BindConfig, index: number, data: Buffer, client: RemoteInfo): void {
    this.counters.in++;
    const key = flowKey(this.config, bind, data, client);
    if (key === undefined) return void this.counters.malformed++;
    // A datagram that stands alone has no owner: the thread that read it handles it.
    const owner = key === ALONE ? undefined : this.peers.ownerOf(key);
    if (owner === undefined) return this.own(bind, key, this.receivers.get(index)!, data, client);
    this.counters.redispatched++;
    const family = client.family === 'IPv6' ? 6 : 4;
    const sent = this.peers.send(owner, this.index, { bind: index, client: { family, address: client.address, port: client.port }, key, data });
    if (!sent) this.undelivered();
  }

  /** A datagram of a flow this thread owns, read here or by another thread: `socket` is this thread's own dup of its bind. */
  private own(bind: BindConfig, key: string, socket: Socket, data: Buffer, client: RemoteInfo): void {
    // The table never holds ALONE: such a datagram always makes a new flow.
    const flow = this.flows.get(key) ?? this.moved.get(key) ?? this.newFlow(bind, key, socket, client);
    if (flow === undefined) return;
    flow.client = client;
    flow.forward(data);
  }

  /**
   * A flow past this thread's share of maxFlows (flows that stand alone count too), past its share
   * of maxFlowRate, or with no usable server, is not created: the datagram is dropped and counted.
   */
  private newFlow(bind: BindConfig, key: string, socket: Socket, client: RemoteInfo): Flow | undefined {
    if (this.sockets.size >= this.maxFlows) return void this.dropped();
    if (this.rate !== undefined && !this.rate.take()) return void this.counters.rateLimited++;
    const server = this.backend.pick(new Set(), { client: client.address });
    if (server === undefined) return void this.dropped();
    const flow = new Flow(key, bind.key, client, server, this.config.timeout.flow, this, { once: key === ALONE });
    if (key !== ALONE) this.flows.set(key, flow);
    this.sockets.set(flow, socket);
    if (key !== ALONE && this.config.flowKey === 'address') this.connectFlow(flow, bind, socket);
    this.counters.flows++;
    this.counters.flowsTotal++;
    this.backend.current++;
    this.backend.total++;
    return flow;
  }

  /**
   * A flow keyed by its client's address gets a socket of its own on the frontend's address,
   * connected to the client, so that the kernel delivers the client's next datagrams to this thread.
   * Flows keyed otherwise (quic-dcid: a client may move) stay on the frontend's socket and redispatch.
   */
  private connectFlow(flow: Flow, bind: BindConfig, frontend: Socket): void {
    const spare = this.spare.get(flow.key);
    this.spare.delete(flow.key);
    if (spare !== undefined) return void this.flowSockets.set(flow, spare);
    const index = this.config.bind.indexOf(bind);
    const { address, port } = frontend.address();
    this.flowSockets.set(flow, FlowSocket.open(familyOf(bind), address, port, flow.client, this.flowSocketOwner(index, flow.key)));
  }

  /** Until the key's next flow takes it, or for as long as a flow would idle. */
  private keepSpare(key: string, own: FlowSocket): void {
    this.spare.set(key, own);
    setTimeout(() => {
      if (this.spare.get(key) !== own) return;
      this.spare.delete(key);
      own.close();
    }, this.config.timeout.flow).unref();
  }

  private flowSocketOwner(index: number, key: string): FlowSocketOwner {
    const bind = this.config.bind[index];
    return {
      fromClient: (data, client) => {
        this.counters.in++;
        this.own(bind, key, this.receivers.get(index)!, data, client);
      },
      stray: (data, from) => this.fromClient(bind, index, data, from),
    };
  }
}

function familyOf(bind: BindConfig): 4 | 6 {
  return bind.address.kind === 'udp' ? bind.address.family : 4;
}
