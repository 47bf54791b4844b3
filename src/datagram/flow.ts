import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Server } from '../server';

/** Datagrams a flow holds while its upstream socket connects; past it they are dropped. */
const PENDING_MAX = 64;

export interface FlowOwner {
  /** Sends a server's reply to the client, through the frontend's socket. */
  reply(flow: Flow, data: Buffer): void;
  /** The flow dropped a datagram it could not forward. */
  dropped(): void;
  ended(flow: Flow): void;
}

/**
 * One client's exchange with one server: its own upstream socket, connected to the server, so that
 * the kernel hands it only that server's replies and the server sees one source port per client.
 * It ends after `idle` ms without a datagram either way, or, if `once`, after the server's first reply
 * (a datagram that stands alone: flowKey "none").
 */
export class Flow {
  private readonly upstream: Socket;
  private pending: Buffer[] | undefined = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly key: string,
    /** Where replies go: the client's newest address, as a flow keyed by QUIC connection id follows its client. */
    public client: RemoteInfo,
    readonly server: Server,
    idle: number,
    private readonly owner: FlowOwner,
    private readonly once = false,
  ) {
    this.upstream = createSocket(isIPv6(server.address) ? 'udp6' : 'udp4');
    this.upstream.on('message', (data) => this.fromServer(data));
    this.upstream.on('error', () => this.failed());
    this.upstream.connect(server.port, server.address, (err?: Error) => (err ? this.failed() : this.connected()));
    this.timer = setTimeout(() => this.close(), idle);
    this.timer.unref();
    server.active++;
    server.total++;
  }

  /** A client's datagram to the server. */
  forward(data: Buffer): void {
    this.timer.refresh();
    if (this.pending === undefined) return this.upstream.send(data);
    if (this.pending.length < PENDING_MAX) this.pending.push(data);
    else this.owner.dropped();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.server.active--;
    this.upstream.close();
    this.owner.ended(this);
  }

  /**
   * A connect that failed (no route, a broadcast address) means the upstream never will be:
   * the flow ends and its held datagrams count as dropped. Afterwards errors are ICMP reports (port
   * unreachable) or a send that failed, and the flow lives on until idle, as the server may come back.
   */
  private failed(): void {
    if (this.pending === undefined) return;
    for (let i = 0; i < this.pending.length; i++) this.owner.dropped();
    this.pending = [];
    this.close();
  }

  private connected(): void {
    const pending = this.pending ?? [];
    this.pending = undefined;
    if (this.closed) return;
    for (const data of pending) this.upstream.send(data);
  }

  private fromServer(data: Buffer): void {
    this.timer.refresh();
    this.owner.reply(this, data);
    if (this.once) this.close();
  }
}
