import type { Socket } from 'node:net';
import type { PickContext } from '../backend/balance';
import { closing, CUT_TERMINATION, type Cut } from '../conn/closing';
import { ConnFlag, type Connection } from '../conn/connection';
import { connectToServer, type ConnectSink } from '../backend/connect';
import { heldBy, type Envelope } from '../proto/envelope';
import type { ProxyEnds } from '../proto/proxy-ends';
import type { Waiter } from '../backend/queue';
import type { Server } from '../backend/server';
import type { Departure, Session, StreamContext } from './session';
import { Slot } from '../backend/slot';
import { Pump } from './relay';
import { plain, type StreamHandle } from '../conn/stream-handle';
import type { SessionSnapshot } from '../proto/snapshot';
import { NORMAL, type Stage, type Termination, type Who } from '../proto/termination';

/**
 * The context for a session that takes `old`'s connection over (an h2c client, a tunnel after an
 * upgrade): the thread holds it in `old`'s place, counted once. The rest, `stopping` included, is
 * read live from `ctx`.
 */
export function takingOver(ctx: StreamContext, old: Session): StreamContext {
  const next: StreamContext = Object.create(ctx) as StreamContext;
  Object.defineProperty(next, 'began', { value: (session: Session) => ctx.replaced(old, session) });
  return next;
}

/** A session's history when it comes from an older generation. */
export type Origin = Pick<Envelope, 'acceptedAt' | 'connectedAt' | 'queuedAt' | 'queueMs' | 'bytesIn' | 'bytesOut' | 'retries' | 'generations'>;

/** Shared by every session accepted here: nothing to allocate per session. */
const NO_GENERATIONS: number[] = [];

/**
 * libuv's side of a net.Socket, reached to stop reading without closing. `reading` is node's own
 * flag: while it is false, node:net starts reading again as soon as the socket's buffer is read.
 */

/**
 * One exchange between a client connection and a server connection (or a built-in service): a slot
 * on a server (at once, or after waiting in the backend queue), both directions with back-pressure
 * and half-close (pipe), the client, server, connect and tunnel timeouts, byte counters, how it
 * ended, and one access-log line. Once ferry has passed a FIN on to one side, that side's inactivity
 * timeout is its fin timeout (timeout.clientFin, timeout.serverFin), in place of the client, server
 * or tunnel timeout; a built-in service that has said its last word gives the client
 * timeout.clientFin to close, as HTTP does (src/conn/closing.ts). A stream can be handed over at a
 * quiet point and carried on by the next generation, which then writes the only log line.
 */
export class Stream implements ConnectSink, Waiter, Session {
  private server: Socket | undefined;
  private serverName = '-';
  /** The server it last went to, which counts its bytes. */
  private counted: Server | undefined;
  private readonly slot: Slot;
  private connectedAt: number;
  private retries: number;
  private transferring = false;
  private openSockets = 1;
  private done = false;
  private termination: Termination | undefined;
  /** Why it ended, when the termination code alone does not say (TLS to the server failed). */
  private reason: string | undefined;
  private readonly origin: Origin;
  /** Both directions of a plain tunnel, relayed below node's streams. */
  private pumps: Pump[] | undefined;

  constructor(
    readonly conn: Connection,
    private readonly ctx: StreamContext,
    origin?: Origin,
  ) {
    const client = conn.ctrl;
    this.origin = origin ?? { acceptedAt: conn.acceptedAt, connectedAt: 0, bytesIn: 0, bytesOut: 0, retries: 0, generations: NO_GENERATIONS };
    this.connectedAt = this.origin.connectedAt;
    this.slot = new Slot(ctx.backend, this, this.origin.queueMs ?? 0);
    this.retries = this.origin.retries;
    ctx.began(this);
    client.setTimeout(ctx.frontend.clientTimeout);
    client.on('timeout', () => this.terminate('c'));
    client.on('error', () => {
      conn.flags |= ConnFlag.Error;
      this.terminate('C');
    });
    client.on('close', () => this.socketClosed());
    client.on('finish', () => this.clientFinished());
  }

  get acceptedAt(): number {
    return this.origin.acceptedAt;
  }

  /** It waits for a server slot, in the backend queue or on its way from there to the next generation. */
  get waiting(): boolean {
    return this.slot.waiting;
  }

  /** What `show sess` tells of this session. */
  describe(): SessionSnapshot {
    const { conn, ctx, origin } = this;
    return {
      acceptedAt: origin.acceptedAt,
      client: conn.client,
      frontend: ctx.frontend.name,
      backend: ctx.backend.name,
      server: this.serverName,
      generations: origin.generations,
    };
  }

  /** What the balancer chooses this session's server by. */
  get pickContext(): PickContext {
    return { client: this.conn.address };
  }

  /** What a PROXY header to a server says of the client (sendProxy). */
  clientEnds(): ProxyEnds | undefined {
    return this.conn.ends;
  }

  /** Serves the client: a built-in service, or a server connection. `early` was read before. */
  start(early?: Buffer): void {
    if (early !== undefined && early.length > 0) this.conn.ctrl.unshift(early);
    const { service } = this.ctx.backend;
    if (service === undefined) return this.requestSlot();
    this.serverName = `<${service.name}>`;
    this.transferring = true;
    service.serve(this.conn.ctrl, this.ctx.service);
  }

  /** The backend gave it a slot on `server`: connect there. */
  served(server: Server): void {
    this.slot.hold(server);
    connectToServer(this.ctx.backend, server, this.pickContext, this);
  }

  /** It waited `timeout.queue` for nothing (a wait begun in an older generation counts from its start). */
  expired(): void {
    this.terminate('s');
  }

  attempting(server: Server, socket: Socket): void {
    this.slot.hold(server);
    this.server = socket;
    this.serverName = server.name;
    this.counted = server;
  }

  connected(server: Server, socket: Socket, retries: number): void {
    this.retries = retries;
    this.connectedAt = Date.now();
    server.total++;
    this.tunnel(socket);
  }

  /** Carries on a tunnel an older generation handed over, starting with the bytes it had in hand. */
  adoptTunnel(socket: Socket, serverName: string, server: Server | undefined, toServer: Buffer, toClient: Buffer): void {
    this.serverName = serverName;
    this.counted = server;
    // The tunnel is already open: it takes its slot even past maxconn.
    if (server !== undefined) this.slot.hold(server);
    if (toServer.length > 0) socket.write(toServer);
    if (toClient.length > 0) this.conn.ctrl.write(toClient);
    this.tunnel(socket);
  }

  failed(who: Who, retries: number, tls?: string): void {
    this.retries = retries;
    this.server = undefined;
    this.reason = tls;
    this.terminate(who);
  }

  /** Ends the stream now: both sides are closed at once (reset, timeout, kill, no server). */
  terminate(who: Who): void {
    if (this.done) return;
    this.end(`${who}${this.stage(who)}`);
  }

  private end(termination: Termination): void {
    this.finish(termination);
    this.conn.ctrl.destroy();
    this.server?.destroy();
  }

  /**
   * Ferry's FIN to the client is out: after a server's FIN, the client may still send for the server
   * to read, so it has timeout.clientFin of inactivity; after a built-in service's last word nothing
   * it sends is wanted, so it has timeout.clientFin to close, what it sends dropped.
   */
  private clientFinished(): void {
    const client = this.conn.ctrl;
    const finMs = this.ctx.frontend.config.timeout.clientFin;
    if (this.ctx.backend.service === undefined) return void client.setTimeout(finMs);
    closing(client, { finMs, cut: (why: Cut) => !this.done && this.end(CUT_TERMINATION[why]) });
  }

  /**
   * Takes the stream off its sockets at a quiet point, for the next generation: reading stops on
   * both sides, the bytes read but not yet forwarded are collected, and what was written is flushed
   * to the kernel. Resolves with undefined for a stream that cannot move (a built-in service, a
   * half-closed or failed connection, a TLS connection, whose state lives in this process); it then
   * simply goes on here.
   */
  async handOver(generation: number): Promise<Departure | undefined> {
    const client = this.conn.ctrl;
    const server = this.server;
    if (this.done || this.conn.xprt !== 'raw' || !movable(client) || this.serverName.startsWith('<')) return undefined;
    if (this.transferring && (server === undefined || !movable(server))) return undefined;
    const connecting = !this.transferring;
    // From here the sockets belong to the hand-over: no timer may close them while they travel, and
    // a queued session takes no slot here any more (the next generation queues it again).
    client.setTimeout(0);
    server?.setTimeout(0);
    this.slot.leaveQueue();
    const pumped = this.pumps?.map((p) => p.stop()) ?? [];
    const toServer = stopReading(client, server);
    const toClient = server !== undefined && !connecting ? stopReading(server, client) : Buffer.alloc(0);
    if (connecting) {
      // No server connection yet: the next generation makes its own.
      server?.destroy();
      this.server = undefined;
    }
    await Promise.all([...pumped, flushed(client), connecting ? undefined : flushed(server!)]);
    if (this.done) return undefined;
    if (!movable(client) || (!connecting && !movable(server!))) {
      // A socket failed while its writes were flushing: the stream no longer forwards, so end it.
      this.terminate('K');
      return undefined;
    }
    const envelope: Envelope = {
      frontend: this.ctx.frontend.name,
      backend: this.ctx.backend.name,
      server: connecting ? undefined : this.serverName,
      client: this.conn.client,
      ...(this.conn.proxied !== undefined && { proxied: this.conn.proxied }),
      acceptedAt: this.origin.acceptedAt,
      connectedAt: this.connectedAt,
      ...(this.waiting && { queuedAt: this.slot.queuedAt }),
      ...(this.slot.waitedMs !== 0 && { queueMs: this.slot.waitedMs }),
      bytesIn: this.bytesIn(),
      bytesOut: this.bytesOut(),
      retries: this.retries,
      generations: heldBy(this.origin.generations, generation),
      toServer,
      toClient,
    };
    return { envelope, client: rawHandle(client), server: connecting ? undefined : rawHandle(server!), sockets: connecting ? [client] : [client, server!] };
  }

  /** The next generation holds the sockets now: close this side's copies, without a log line. */
  handedOver(): void {
    this.finish(undefined);
    this.conn.ctrl.destroy();
    this.server?.destroy();
  }

  private tunnel(socket: Socket): void {
    const client = this.conn.ctrl;
    const tunnel = this.ctx.backend.config.timeout.tunnel;
    this.server = socket;
    this.transferring = true;
    this.openSockets++;
    socket.setTimeout(tunnel ?? this.ctx.backend.config.timeout.server);
    if (tunnel !== undefined) {
      client.setTimeout(tunnel);
      // A tunnel one side of which has sent its FIN is a tunnel no more: each side is back to its own
      // timeout (a client that half-closed and never reads is cut at timeout.client), and a side
      // ferry has sent its FIN to has its fin timeout.
      let tunnelled = true;
      const untunnel = (): void => {
        if (!tunnelled) return;
        tunnelled = false;
        if (!client.writableFinished) client.setTimeout(this.ctx.frontend.clientTimeout);
        if (!socket.writableFinished) socket.setTimeout(this.ctx.backend.config.timeout.server);
      };
      client.once('end', untunnel);
      socket.once('end', untunnel);
    }
    socket.on('timeout', () => this.terminate('s'));
    socket.on('error', () => this.terminate('S'));
    socket.on('close', () => this.socketClosed());
    // Ferry passed the client's FIN on: the server has timeout.serverFin of inactivity from now on.
    socket.on('finish', () => socket.setTimeout(this.ctx.backend.config.timeout.serverFin));
    if (plain(client) && plain(socket)) {
      this.pumps = [new Pump(client, socket), new Pump(socket, client)];
      for (const pump of this.pumps) pump.start();
    } else {
      // TLS on either side: node:tls reads and writes through its own streams.
      client.pipe(socket);
      socket.pipe(client);
    }
  }

  /** Takes the backend's next free slot, or waits in its queue for one, behind those who came first. */
  private requestSlot(): void {
    const server = this.slot.request(this.origin.queuedAt);
    if (server !== undefined) this.served(server);
  }

  /** The stage the stream is in, for `who` (a side ferry has sent its FIN to is closing: 'L'). */
  private stage(who?: Who): Stage {
    if (!this.transferring) return this.waiting ? 'Q' : 'C';
    const side = who === 'c' || who === 'C' ? this.conn.ctrl : who === 's' || who === 'S' ? this.server : undefined;
    return side?.writableFinished === true ? 'L' : 'D';
  }

  private socketClosed(): void {
    if (--this.openSockets === 0) this.finish(NORMAL);
  }

  /** `undefined`: the session goes on in another generation, which logs it. */
  private finish(termination: Termination | undefined): void {
    if (this.done) return;
    this.done = true;
    this.termination = termination;
    this.slot.leaveQueue();
    this.slot.release();
    if (termination !== undefined) this.log();
    this.ctx.ended(this);
  }

  private bytesIn(): number {
    return this.origin.bytesIn + this.conn.ctrl.bytesRead;
  }

  private bytesOut(): number {
    return this.origin.bytesOut + this.conn.ctrl.bytesWritten;
  }

  private log(): void {
    const { conn, ctx, origin } = this;
    const now = Date.now();
    const bytesIn = this.bytesIn();
    const bytesOut = this.bytesOut();
    for (const t of [ctx.frontend.traffic, ctx.backend.traffic, this.counted?.traffic]) t?.session(bytesIn, bytesOut, this.retries);
    if (this.termination !== NORMAL) {
      ctx.frontend.ended(this.termination!);
      // The frontend's ends are its own (with those of connections cut while closing); the backend's and server's are in their traffic.
      for (const t of [ctx.backend.traffic, this.counted?.traffic]) t?.ended(this.termination!);
    }
    ctx.access?.info(
      {
        client: conn.client,
        frontend: ctx.frontend.name,
        backend: ctx.backend.name,
        server: this.serverName,
        bytesIn,
        bytesOut,
        queueMs: this.slot.queueMs(now),
        connectMs: this.connectedAt === 0 ? -1 : this.connectedAt - origin.acceptedAt,
        totalMs: now - origin.acceptedAt,
        retries: this.retries,
        termination: this.termination,
        ...(this.reason !== undefined && { reason: this.reason }),
        ...(conn.tls !== undefined && { tls: conn.tls }),
        ...(origin.generations.length > 0 ? { adopted: true, generations: [...origin.generations, ctx.service.generation] } : {}),
      },
      'session',
    );
  }
}

/** Neither end has finished or failed: the socket can change owner at any byte. */
export function movable(socket: Socket): boolean {
  // TLS state lives in this process: a TLS socket (to a client or a server) never changes owner.
  if ((socket as Socket & { encrypted?: boolean }).encrypted === true) return false;
  const state = (socket as unknown as { _readableState: { ended: boolean } })._readableState;
  return !socket.destroyed && !state.ended && !socket.writableEnded && (socket as unknown as { _handle: unknown })._handle != null;
}

/**
 * Stops `from` reading from the kernel and returns what it had read but not yet handed on. The
 * handle keeps claiming to read, so that draining the buffer does not start it again.
 */
export function stopReading(from: Socket, to: Socket | undefined): Buffer {
  if (to !== undefined) from.unpipe(to);
  from.pause();
  const handle = rawHandle(from) as StreamHandle;
  handle.readStop();
  // Back-pressure may have stopped the handle already, with the flag false: draining the buffer
  // below would then start reading again, and what arrived next would stay behind in this socket.
  handle.reading = true;
  const chunks: Buffer[] = [];
  for (let chunk: Buffer | null; (chunk = from.read() as Buffer | null) !== null; ) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Resolves once everything written to `socket` is in the kernel (or the socket closed). 'drain'
 * alone is not enough: it comes only after a write that found the buffer full, and a write that
 * did not may still be pending; an empty write's callback comes after every write before it.
 */
export function flushed(socket: Socket): Promise<void> {
  // An ended socket cannot move anyway: its callers only need to know that.
  // Direct writes (src/conn/handle-writer.ts) that libuv has not finished are not node's to count.
  if (socket.writableEnded || socket.destroyed || (socket.writableLength === 0 && (rawHandle(socket) as StreamHandle | null)?.writeQueueSize === 0)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('close', done);
      resolve();
    };
    socket.on('close', done);
    socket.write(EMPTY, done);
  });
}

const EMPTY = Buffer.alloc(0);

export function rawHandle(socket: Socket): object {
  return (socket as unknown as { _handle: object })._handle;
}
