import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Backend } from '../backend';
import type { BindConfig, FrontendConfig } from '../config/types';
import type { SocketRef } from '../ipc';
import { fdOf } from '../handles';
import type { Logger } from '../log';
import { noDatagrams, type DatagramCounters } from './counters';
import { Flow, type FlowOwner } from './flow';

/**
 * The datagram handler of one UDP frontend in the thread that reads its sockets: the flow table,
 * keyed by receiver and client address, without locks since only this thread touches it.
 */
export class DatagramHandler implements FlowOwner {
  readonly counters: DatagramCounters = noDatagrams();
  private readonly flows = new Map<string, Flow>();
  private readonly sockets = new Map<Flow, Socket>();
  private readonly receivers: Socket[] = [];

  constructor(
    readonly config: FrontendConfig,
    private readonly backend: Backend,
    private readonly log: Logger,
  ) {}

  /** Reads a UDP socket received from the master (a handle, or its fd number in a worker thread). */
  open(bind: BindConfig, target: SocketRef, ready: () => void): void {
    if (bind.address.kind !== 'udp') throw new Error(`${bind.text} is not a UDP bind`);
    const socket = createSocket(bind.address.family === 6 ? 'udp6' : 'udp4');
    socket.on('message', (data, client) => this.fromClient(bind, socket, data, client));
    socket.on('error', (err) => this.log.warn({ bind: bind.text, err: err.message }, 'UDP receive failed'));
    // Without `exclusive`, a cluster worker's bind asks the primary for the socket, which would open
    // this process's fd number in the master's own table.
    socket.bind({ fd: fdOf(target), exclusive: true }, ready);
    this.receivers.push(socket);
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
    for (const flow of [...this.flows.values()]) flow.close();
    for (const socket of this.receivers) socket.close();
    this.receivers.length = 0;
  }

  private fromClient(bind: BindConfig, socket: Socket, data: Buffer, client: RemoteInfo): void {
    this.counters.in++;
    const key = `${bind.key} ${client.address}:${client.port}`;
    const flow = this.flows.get(key) ?? this.newFlow(key, socket, client);
    if (flow === undefined) return this.dropped();
    flow.forward(data);
  }

  /** A flow past maxFlows, or with no usable server, is not created: the datagram is dropped. */
  private newFlow(key: string, socket: Socket, client: RemoteInfo): Flow | undefined {
    if (this.flows.size >= this.config.maxFlows) return undefined;
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
