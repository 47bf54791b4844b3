import type { Socket } from 'node:net';
import type { Backend } from './backend';
import { ConnFlag, type Connection } from './connection';
import { connectToServer, type ConnectSink } from './connect';
import type { Logger } from './log';
import type { Server } from './server';
import type { ServiceContext } from './services';
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

/**
 * One exchange between a client connection and a server connection (or a built-in service): both
 * directions with back-pressure and half-close (pipe), the client, server, connect and tunnel
 * timeouts, byte counters, how it ended, and one access-log line.
 */
export class Stream implements ConnectSink {
  private server: Socket | undefined;
  private serverName = '-';
  private assigned: Server | undefined;
  private connectedAt = 0;
  private retries = 0;
  private transferring = false;
  private openSockets = 1;
  private termination: Termination | undefined;

  constructor(
    readonly conn: Connection,
    private readonly ctx: StreamContext,
  ) {
    const client = conn.ctrl;
    ctx.began(this);
    client.setTimeout(ctx.frontend.clientTimeout);
    client.on('timeout', () => this.terminate('c'));
    client.on('error', () => {
      conn.flags |= ConnFlag.Error;
      this.terminate('C');
    });
    client.on('close', () => this.socketClosed());
  }

  start(): void {
    const { service } = this.ctx.backend;
    if (service === undefined) return connectToServer(this.ctx.backend, this);
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
    const client = this.conn.ctrl;
    const tunnel = this.ctx.backend.config.timeout.tunnel;
    this.retries = retries;
    this.connectedAt = Date.now();
    this.transferring = true;
    this.openSockets++;
    server.total++;
    socket.setTimeout(tunnel ?? this.ctx.backend.config.timeout.server);
    if (tunnel !== undefined) client.setTimeout(tunnel);
    socket.on('timeout', () => this.terminate('s'));
    socket.on('error', () => this.terminate('S'));
    socket.on('close', () => this.socketClosed());
    client.pipe(socket);
    socket.pipe(client);
  }

  failed(who: Who, retries: number): void {
    this.retries = retries;
    this.server = undefined;
    this.terminate(who);
  }

  /** Ends the stream now: both sides are closed at once (reset, timeout, kill, no server). */
  terminate(who: Who): void {
    if (this.termination !== undefined) return;
    this.finish(`${who}${this.transferring ? 'D' : 'C'}`);
    this.conn.ctrl.destroy();
    this.server?.destroy();
  }

  private socketClosed(): void {
    if (--this.openSockets === 0) this.finish(NORMAL);
  }

  private finish(termination: Termination): void {
    if (this.termination !== undefined) return;
    this.termination = termination;
    this.release();
    this.log();
    this.ctx.ended(this);
  }

  private release(): void {
    if (this.assigned !== undefined) this.assigned.active--;
    this.assigned = undefined;
  }

  private log(): void {
    const { conn, ctx } = this;
    const now = Date.now();
    ctx.log.info(
      {
        client: conn.client,
        frontend: ctx.frontend.name,
        backend: ctx.backend.name,
        server: this.serverName,
        bytesIn: conn.ctrl.bytesRead,
        bytesOut: conn.ctrl.bytesWritten,
        connectMs: this.connectedAt === 0 ? -1 : this.connectedAt - conn.acceptedAt,
        totalMs: now - conn.acceptedAt,
        retries: this.retries,
        termination: this.termination,
      },
      'session',
    );
  }
}
