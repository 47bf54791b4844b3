import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Backend } from '../backend';
import type { BindConfig, FrontendConfig } from '../config/types';
import type { SocketRef } from '../ipc';
import { fdOf } from '../handles';
import type { Logger } from '../log';
import { noDatagrams, type DatagramCounters } from './counters';
import { Flow, type FlowOwner } from './flow';
import type { Redispatched } from './redispatch-packet';
import type { Redispatcher } from './redispatcher';

/**
 * The datagram handler of one UDP frontend in one thread. Every thread reads every socket of the
 * frontend, but each flow belongs to one thread (the flow key's owner): a datagram read elsewhere is
 * redispatched there. The flow table holds this thread's flows only, without locks.
 */
export class DatagramHandler implements FlowOwner {
  readonly counters: DatagramCounters = noDatagrams();
  private readonly flows = new Map<string, Flow>();
  private readonly sockets = new Map<Flow, Socket>();
  /** This thread's dup of each bind's socket, by the bind's index in the frontend. */
  private readonly receivers = new Map<number, Socket>();
  private closed = false;

  constructor(
    readonly config: FrontendConfig,
    /** The frontend's index in the configuration: how other threads name it. */
    private readonly index: number,
    private readonly backend: Backend,
    /** This thread's share of maxFlows: each thread owns its flows alone. */
    private readonly maxFlows: number,
    private readonly peers: Redispatcher,
    private readonly log: Logger,
  ) {}

  /** Reads a UDP socket received from the master (a handle, or its fd number in a worker thread). */
  open(bind: BindConfig, target: SocketRef, ready: () => void): void {
    if (bind.address.kind !== 'udp') throw new Error(`${bind.text} is not a UDP bind`);
    const socket = createSocket(bind.address.family === 6 ? 'udp6' : 'udp4');
    const index = this.config.bind.indexOf(bind);
    socket.on('message', (data, client) => this.fromClient(bind, index, data, client));
    socket.on('error', (err) => this.log.warn({ bind: bind.text, err: err.message }, 'UDP receive failed'));
    // Without `exclusive`, a cluster worker's bind asks the primary for the socket, which would open
    // this process's fd number in the master's own table.
    socket.bind({ fd: fdOf(target), exclusive: true }, ready);
    this.receivers.set(index, socket);
  }

  /** A datagram another thread read for a flow this thread owns: handled as if read here. */
  fromThread(d: Redispatched): void {
    const socket = this.receivers.get(d.bind);
    if (this.closed || socket === undefined) return this.undelivered();
    this.counters.fromThreads++;
    const client = { address: d.client.address, port: d.client.port, family: d.client.family === 6 ? 'IPv6' : 'IPv4', size: d.data.length } as const;
    this.own(d.key, socket, Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength), client);
  }

  /** A redispatched datagram lost on its way to or at its owner. */
  undelivered(): void {
    this.counters.redispatchDropped++;
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
    this.flows.delete(flow.key);
    this.sockets.delete(flow);
    this.counters.flows--;
    this.backend.current--;
  }

  /** Ends every flow and stops reading: the master's socket lives on for the next generation. */
  close(): void {
    this.closed = true;
    for (const flow of [...this.flows.values()]) flow.close();
    for (const socket of this.receivers.values()) socket.close();
    this.receivers.clear();
  }

  /** The flow a datagram belongs to; undefined: it belongs to none, and is dropped. */
  private keyOf(bind: BindConfig, _data: Buffer, client: RemoteInfo): string | undefined {
    return `${bind.key} ${client.address}:${client.port}`;
  }

  private fromClient(bind: BindConfig, index: number, data: Buffer, client: RemoteInfo): void {
    this.counters.in++;
    const key = this.keyOf(bind, data, client);
    if (key === undefined) return this.dropped();
    const owner = this.peers.ownerOf(key);
    if (owner === undefined) return this.own(key, this.receivers.get(index)!, data, client);
    this.counters.redispatched++;
    const family = client.family === 'IPv6' ? 6 : 4;
    const sent = this.peers.send(owner, { frontend: this.index, bind: index, client: { family, address: client.address, port: client.port }, key, data });
    if (!sent) this.undelivered();
  }

  /** A datagram of a flow this thread owns, read here or by another thread: `socket` is this thread's own dup of its bind. */
  private own(key: string, socket: Socket, data: Buffer, client: RemoteInfo): void {
    const flow = this.flows.get(key) ?? this.newFlow(key, socket, client);
    if (flow === undefined) return this.dropped();
    flow.forward(data);
  }

  /** A flow past maxFlows, or with no usable server, is not created: the datagram is dropped. */
  private newFlow(key: string, socket: Socket, client: RemoteInfo): Flow | undefined {
    if (this.flows.size >= this.maxFlows) return undefined;
    const server = this.backend.pick(new Set(), { client: client.address });
    if (server === undefined) return undefined;
    const flow = new Flow(key, client, server, this.config.timeout.flow, this);
    this.flows.set(key, flow);
    this.sockets.set(flow, socket);
    this.counters.flows++;
    this.counters.flowsTotal++;
    this.backend.current++;
    this.backend.total++;
    return flow;
  }
}
