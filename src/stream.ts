import type { Socket } from 'node:net';
import type { Backend } from './backend';
import { ConnFlag, type Connection } from './connection';
import { connectToServer, type ConnectSink } from './connect';
import type { Envelope } from './envelope';
import type { Logger } from './log';
import type { Server } from './server';
import type { ServiceContext } from './services';
import type { SessionSnapshot } from './snapshot';
import { NORMAL, type Termination, type Who } from './termination';

/** What a stream needs from the thread that runs it. */
export interface StreamContext {
  readonly frontend: { readonly name: string; readonly clientTimeout: number };
  readonly backend: Backend;
  readonly log: Logger;
  readonly service: ServiceContext;
  began(stream: Stream): void;
  /** Called once when the stream has ended, whatever the reason. */
  ended(stream: Stream): void;
}

/** A session's history when it comes from an older generation. */
export type Origin = Pick<Envelope, 'acceptedAt' | 'connectedAt' | 'bytesIn' | 'bytesOut' | 'retries' | 'generations'>;

/** A stream taken off its sockets for the next generation: the raw handles and their envelope. */
export interface Detached {
  envelope: Envelope;
  client: object;
  server?: object;
}

/** Shared by every session accepted here: nothing to allocate per session. */
const NO_GENERATIONS: number[] = [];

/** libuv's side of a net.Socket, reached to stop reading without closing. */
type RawHandle = { readStop(): number };

/**
 * One exchange between a client connection and a server connection (or a built-in service): both
 * directions with back-pressure and half-close (pipe), the client, server, connect and tunnel
 * timeouts, byte counters, how it ended, and one access-log line. A stream can be detached at a quiet
 * point and carried on by the next generation, which then writes the only log line.
 */
export class Stream implements ConnectSink {
  private server: Socket | undefined;
  private serverName = '-';
  private assigned: Server | undefined;
  private connectedAt: number;
  private retries: number;
  private transferring = false;
  private openSockets = 1;
  private done = false;
  private termination: Termination | undefined;
  private readonly origin: Origin;

  constructor(
    readonly conn: Connection,
    private readonly ctx: StreamContext,
    origin?: Origin,
  ) {
    const client = conn.ctrl;
    this.origin = origin ?? { acceptedAt: conn.acceptedAt, connectedAt: 0, bytesIn: 0, bytesOut: 0, retries: 0, generations: NO_GENERATIONS };
    this.connectedAt = this.origin.connectedAt;
    this.retries = this.origin.retries;
    ctx.began(this);
    client.setTimeout(ctx.frontend.clientTimeout);
    client.on('timeout', () => this.terminate('c'));
    client.on('error', () => {
      conn.flags |= ConnFlag.Error;
      this.terminate('C');
    });
    client.on('close', () => this.socketClosed());
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

  /** Serves the client: a built-in service, or a server connection. `early` was read before. */
  start(early?: Buffer): void {
    if (early !== undefined && early.length > 0) this.conn.ctrl.unshift(early);
    const { service } = this.ctx.backend;
    if (service === undefined) return connectToServer(this.ctx.backend, { client: this.conn.ctrl.remoteAddress }, this);
    this.serverName = `<${service.name}>`;
    this.transferring = true;
    service.serve(this.conn.ctrl, this.ctx.service);
  }

  attempting(server: Server, socket: Socket): void {
    this.release();
    this.assigned = server;
    server.active++;
    this.server = socket;
    this.serverName = server.name;
  }

  connected(server: Server, socket: Socket, retries: number): void {
    this.retries = retries;
    this.connectedAt = Date.now();
    server.total++;
    this.tunnel(socket);
  }

  /** Carries on a tunnel an older generation detached, starting with the bytes it had in hand. */
  adoptTunnel(socket: Socket, serverName: string, server: Server | undefined, toServer: Buffer, toClient: Buffer): void {
    this.serverName = serverName;
    if (server !== undefined) {
      this.assigned = server;
      server.active++;
    }
    if (toServer.length > 0) socket.write(toServer);
    if (toClient.length > 0) this.conn.ctrl.write(toClient);
    this.tunnel(socket);
  }

  failed(who: Who, retries: number): void {
    this.retries = retries;
    this.server = undefined;
    this.terminate(who);
  }

  /** Ends the stream now: both sides are closed at once (reset, timeout, kill, no server). */
  terminate(who: Who): void {
    if (this.done) return;
    this.finish(`${who}${this.transferring ? 'D' : 'C'}`);
    this.conn.ctrl.destroy();
    this.server?.destroy();
  }

  /**
   * Takes the stream off its sockets at a quiet point, for the next generation: reading stops on
   * both sides, the bytes read but not yet forwarded are collected, and what was written is flushed
   * to the kernel. Resolves with undefined for a stream that cannot move (a built-in service, a
   * half-closed or failed connection); it then simply goes on here.
   */
  async detach(generation: number): Promise<Detached | undefined> {
    const client = this.conn.ctrl;
    const server = this.server;
    if (this.done || !movable(client) || this.serverName.startsWith('<')) return undefined;
    if (this.transferring && (server === undefined || !movable(server))) return undefined;
    const connecting = !this.transferring;
    // From here the sockets belong to the hand-over: no timer may close them while they travel.
    client.setTimeout(0);
    server?.setTimeout(0);
    const toServer = stopReading(client, server);
    const toClient = server !== undefined && !connecting ? stopReading(server, client) : Buffer.alloc(0);
    if (connecting) {
      // No server connection yet: the next generation makes its own.
      server?.destroy();
      this.server = undefined;
    }
    await Promise.all([flushed(client), connecting ? undefined : flushed(server!)]);
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
      acceptedAt: this.origin.acceptedAt,
      connectedAt: this.connectedAt,
      bytesIn: this.bytesIn(),
      bytesOut: this.bytesOut(),
      retries: this.retries,
      generations: [...this.origin.generations, generation],
      toServer,
      toClient,
    };
    return { envelope, client: rawHandle(client), server: connecting ? undefined : rawHandle(server!) };
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
    if (tunnel !== undefined) client.setTimeout(tunnel);
    socket.on('timeout', () => this.terminate('s'));
    socket.on('error', () => this.terminate('S'));
    socket.on('close', () => this.socketClosed());
    client.pipe(socket);
    socket.pipe(client);
  }

  private socketClosed(): void {
    if (--this.openSockets === 0) this.finish(NORMAL);
  }

  /** `undefined`: the session goes on in another generation, which logs it. */
  private finish(termination: Termination | undefined): void {
    if (this.done) return;
    this.done = true;
    this.termination = termination;
    this.release();
    if (termination !== undefined) this.log();
    this.ctx.ended(this);
  }

  private release(): void {
    if (this.assigned !== undefined) this.assigned.active--;
    this.assigned = undefined;
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
    ctx.log.info(
      {
        client: conn.client,
        frontend: ctx.frontend.name,
        backend: ctx.backend.name,
        server: this.serverName,
        bytesIn: this.bytesIn(),
        bytesOut: this.bytesOut(),
        connectMs: this.connectedAt === 0 ? -1 : this.connectedAt - origin.acceptedAt,
        totalMs: now - origin.acceptedAt,
        retries: this.retries,
        termination: this.termination,
        ...(origin.generations.length > 0 ? { migrated: true, generations: [...origin.generations, ctx.service.generation] } : {}),
      },
      'session',
    );
  }
}

/** Neither end has finished or failed: the socket can change owner at any byte. */
function movable(socket: Socket): boolean {
  const state = (socket as unknown as { _readableState: { ended: boolean } })._readableState;
  return !socket.destroyed && !state.ended && !socket.writableEnded && (socket as unknown as { _handle: unknown })._handle != null;
}

/**
 * Stops `from` reading from the kernel and returns what it had read but not yet handed on. The
 * handle keeps claiming to read, so that draining the buffer does not start it again.
 */
function stopReading(from: Socket, to: Socket | undefined): Buffer {
  if (to !== undefined) from.unpipe(to);
  from.pause();
  (rawHandle(from) as RawHandle).readStop();
  const chunks: Buffer[] = [];
  for (let chunk: Buffer | null; (chunk = from.read() as Buffer | null) !== null; ) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function flushed(socket: Socket): Promise<void> {
  if (socket.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

function rawHandle(socket: Socket): object {
  return (socket as unknown as { _handle: object })._handle;
}
