import { heldBy } from '../proto/envelope';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Server } from '../backend/server';
import { adoptConnected, pauseReading, rawHandle, resumeReading } from './dgram-handle';
import type { FlowCounters, FlowEnvelope } from '../proto/flow-envelope';

/** Datagrams a flow holds while its upstream socket connects; past it they are dropped. */
const PENDING_MAX = 64;

export interface FlowOwner {
  /** Sends a server's reply to the client, through the frontend's socket. */
  reply(flow: Flow, data: Buffer): void;
  /** The flow dropped a datagram it could not forward. */
  dropped(): void;
  ended(flow: Flow): void;
}

export type FlowClient = FlowEnvelope['client'];

/** A flow an older generation handed over: its upstream socket's fd, already connected, and its history. */
export interface AdoptedFlow {
  fd: number;
  counters: FlowCounters;
  generations: number[];
}

/**
 * One client's exchange with one server: its own upstream socket, connected to the server, so that
 * the kernel hands it only that server's replies and the server sees one source port per client.
 * It ends after `idle` ms without a datagram either way, or, if `once`, after the server's first reply
 * (a datagram that stands alone: flowKey "none").
 */
export class Flow {
  readonly counters: FlowCounters;
  /** The generations that held the flow before this one. */
  readonly generations: readonly number[];
  private readonly upstream: Socket;
  private pending: Buffer[] | undefined = [];
  private timer: NodeJS.Timeout;
  private closed = false;
  /** Its upstream fd is on its way to the next generation: nothing may close the socket meanwhile. */
  private moving = false;
  /** The next generation has its upstream socket; this copy only sends (see handedOver). */
  private moved = false;
  /** Its fd came connected from an older generation: it can move on before node's connect() has called back. */
  private readonly connectedAlready: boolean;
  private readonly once: boolean;

  constructor(
    readonly key: string,
    /** The receiver (bind key) the client sends to. */
    readonly bind: string,
    /** Where replies go: the client's newest address, as a flow keyed by QUIC connection id follows its client. */
    public client: FlowClient,
    readonly server: Server,
    private readonly idle: number,
    private readonly owner: FlowOwner,
    { adopted, once = false }: { adopted?: AdoptedFlow; once?: boolean } = {},
  ) {
    this.once = once;
    this.counters = adopted?.counters ?? { startedAt: Date.now(), in: 0, out: 0 };
    this.generations = adopted?.generations ?? [];
    this.connectedAlready = adopted !== undefined;
    this.upstream = createSocket(isIPv6(server.address) ? 'udp6' : 'udp4');
    this.upstream.on('message', (data) => this.fromServer(data));
    this.upstream.on('error', () => this.failed());
    const connected = (err?: Error): void => (err ? this.failed() : this.connected());
    if (adopted === undefined) this.upstream.connect(server.port, server.address, connected);
    else adoptConnected(this.upstream, adopted.fd, server.port, server.address, connected);
    this.timer = this.arm();
    server.active++;
    // An adopted flow holds its server as before; it is not a new one.
    if (adopted === undefined) server.total++;
  }

  /** A client's datagram to the server. */
  forward(data: Buffer): void {
    if (this.moved) return this.upstream.send(data);
    this.timer.refresh();
    this.counters.in++;
    if (this.pending === undefined) return this.upstream.send(data);
    if (this.pending.length < PENDING_MAX) this.pending.push(data);
    else this.owner.dropped();
  }

  close(): void {
    if (this.moved) return this.release();
    if (this.closed || this.moving) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.server.active--;
    this.upstream.close();
    this.owner.ended(this);
  }

  /**
   * Takes the flow off its upstream socket for the next generation: reading stops (the server's
   * replies wait in that socket's kernel buffer) and so does the idle timer. Undefined for a flow
   * whose upstream is not connected yet: it stays here.
   */
  handOver(frontend: string, generation: number): { envelope: FlowEnvelope; upstream: object } | undefined {
    if (this.closed || this.moving || (this.pending !== undefined && !this.connectedAlready)) return undefined;
    this.moving = true;
    pauseReading(this.upstream);
    clearTimeout(this.timer);
    const { key, bind, client, server, counters } = this;
    const envelope: FlowEnvelope = {
      frontend,
      bind,
      key,
      client: { address: client.address, port: client.port, family: client.family },
      server: { name: server.name, address: server.address, port: server.port },
      ...counters,
      generations: heldBy(this.generations, generation),
    };
    return { envelope, upstream: rawHandle(this.upstream) };
  }

  /**
   * The next generation has the upstream socket. The flow ends here, but this copy of the socket
   * stays open, unread, until the thread lets go of its flows: a datagram another thread read before
   * the generation went quiet may still come, and it goes on to the server through the same socket,
   * from the same port, whose replies the next generation reads.
   */
  handedOver(): void {
    this.moving = false;
    this.closed = true;
    this.moved = true;
    this.server.active--;
    this.owner.ended(this);
  }

  private release(): void {
    this.moved = false;
    this.upstream.close();
  }

  /** The hand-over failed: the flow goes on here until it idles out (or the generation's hard stop). */
  stay(): void {
    if (!this.moving) return;
    this.moving = false;
    this.timer = this.arm();
    resumeReading(this.upstream);
  }

  private arm(): NodeJS.Timeout {
    const timer = setTimeout(() => this.close(), this.idle);
    timer.unref();
    return timer;
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
    this.counters.out++;
    this.owner.reply(this, data);
    if (this.once) this.close();
  }
}
