import { constants, createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Connection } from '../conn/connection';
import { logCut } from '../http/access-log';
import { H2Exchange, type H2Owner } from '../http/h2-exchange';
import type { Departure, Session, StreamContext, StreamFrontend } from '../stream/session';
import type { SessionSnapshot } from '../proto/snapshot';
import type { Who } from '../proto/termination';
import type { MuxServing } from './registry';

/**
 * One node:http2 server per frontend, never listening: it only makes sessions of the connections
 * given to it. Emitting 'connection' is how node:http2 serves a socket accepted elsewhere (the
 * secure server does the same with its TLS sockets); node 20 offers no public constructor of a
 * server session over an existing socket. The settings are the frontend's.
 */
const servers = new WeakMap<StreamFrontend, Http2Server>();

function serverOf(frontend: StreamFrontend): Http2Server {
  let server = servers.get(frontend);
  if (server === undefined) {
    const http = frontend.config.http!;
    server = createServer({
      // A field section past maxHeaderSize gets 431 and a log line (h2-request.ts counts it as an
      // HTTP/1.1 head would be). node:http2 resets, without a word, a stream past the size it
      // advertises, which counts 32 more bytes per field: it advertises twice as much.
      maxHeaderListPairs: Math.max(128, Math.ceil(http.maxHeaderSize / 32)),
      settings: { maxConcurrentStreams: http.maxConcurrentStreams, maxHeaderListSize: 2 * http.maxHeaderSize, enablePush: false },
    });
    servers.set(frontend, server);
  }
  return server;
}

/**
 * An HTTP/2 client connection (TLS with ALPN h2, or h2c with prior knowledge): node:http2 runs
 * the protocol (framing, HPACK, flow control, stream limits, protocol errors) and each stream
 * becomes an H2Exchange to an HTTP/1.1 server. It cannot move to another generation (node:http2's
 * state lives here): a reload or a stop sends GOAWAY, the streams under way finish, and the
 * connection closes once none is left (or at the hard stop). node:http2 then ends the socket and
 * waits for the client to close: once ferry's FIN is out, the client has timeout.clientFin.
 */
export class H2Connection implements Session, H2Owner {
  readonly client: string;
  readonly address: string | undefined;
  readonly scheme: 'http' | 'https';
  private readonly session: ServerHttp2Session | undefined;
  private readonly exchanges = new Set<H2Exchange>();
  private ended = false;
  /** Ferry's FIN is out: the deadline of the client's close (timeout.clientFin). */
  private finTimer: NodeJS.Timeout | undefined;
  private finSent = false;

  constructor(
    readonly conn: Connection,
    readonly ctx: StreamContext,
  ) {
    const socket = conn.ctrl;
    this.client = conn.client;
    this.address = conn.address;
    this.scheme = conn.xprt === 'tls' ? 'https' : 'http';
    ctx.began(this);
    const server = serverOf(ctx.frontend);
    let session: ServerHttp2Session | undefined;
    const take = (s: ServerHttp2Session): void => void (session = s);
    server.once('session', take);
    server.emit('connection', socket);
    server.off('session', take);
    this.session = session;
    if (session === undefined) {
      this.finish();
      return;
    }
    session.on('stream', this.onStream);
    session.on('error', this.onError);
    session.on('frameError', this.onFrameError);
    session.on('timeout', this.onTimeout);
    session.on('close', this.finish);
    session.setTimeout(ctx.frontend.config.timeout.httpKeepAlive!);
    socket.once('finish', this.onFinSent);
  }

  get waiting(): boolean {
    for (const e of this.exchanges) if (e.waiting) return true;
    return false;
  }

  describe(): SessionSnapshot {
    const { ctx } = this;
    const first = this.exchanges.values().next().value as H2Exchange | undefined;
    return { acceptedAt: this.conn.acceptedAt, client: this.client, frontend: ctx.frontend.name, backend: ctx.backend.name, server: first?.server ?? '-', generations: [] };
  }

  /** It cannot move: GOAWAY, and it finishes here. */
  handOver(): Promise<Departure | undefined> {
    this.goAway('reload');
    return Promise.resolve(undefined);
  }

  handedOver(): void {
    // Never handed over: handOver always declines.
  }

  stop(): void {
    this.goAway('stop');
  }

  terminate(who: Who): void {
    for (const e of this.exchanges) e.terminate(who);
    this.session?.destroy();
    this.conn.ctrl.destroy();
  }

  finished(exchange: H2Exchange): void {
    this.exchanges.delete(exchange);
  }

  /**
   * GOAWAY with the last stream it took: streams under way finish, new ones are refused (the client
   * opens them on a new connection, to the next generation); node:http2 closes the connection
   * once the last stream is done.
   */
  private goAway(why: 'reload' | 'stop'): void {
    const { session } = this;
    if (session === undefined || session.closed || session.destroyed) return;
    this.ctx.log.debug({ client: this.client, frontend: this.ctx.frontend.name, streams: this.exchanges.size, why }, 'h2 goaway');
    session.close();
  }

  private readonly onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, raw: string[]): void => {
    const { ctx } = this;
    ctx.frontend.requests++;
    ctx.backend.requests++;
    const exchange = new H2Exchange(this, stream);
    this.exchanges.add(exchange);
    exchange.start(headers, raw, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0);
  };

  private readonly onError = (err: Error): void => {
    this.ctx.log.warn({ client: this.client, frontend: this.ctx.frontend.name, reason: err.message, code: (err as { code?: string }).code }, 'h2 session error');
  };

  private readonly onFrameError = (type: number, code: number, id: number): void => {
    this.ctx.log.warn({ client: this.client, frontend: this.ctx.frontend.name, frameType: type, code, stream: id }, 'h2 frame error');
  };

  /** Idle past timeout.httpKeepAlive with no stream open: closed, politely. */
  private readonly onTimeout = (): void => {
    if (this.exchanges.size === 0) this.goAway('stop');
  };

  /** node:http2 ended the socket after the session closed: the client has timeout.clientFin to close its side. */
  private readonly onFinSent = (): void => {
    if (this.ended) return;
    const { frontend } = this.ctx;
    this.finSent = true;
    frontend.closing++;
    const finMs = frontend.config.timeout.clientFin;
    if (finMs > 0) this.finTimer = setTimeout(this.onFinTimeout, finMs);
  };

  private readonly onFinTimeout = (): void => {
    this.finTimer = undefined;
    if (this.ended) return;
    logCut(this.ctx, this.client, 'h2', this.conn.acceptedAt, 'fin', 0);
    this.session?.destroy();
    this.conn.ctrl.destroy();
  };

  private readonly finish = (): void => {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.finTimer);
    if (this.finSent) this.ctx.frontend.closing--;
    for (const e of [...this.exchanges]) e.lost();
    this.conn.ctrl.destroy();
    this.ctx.ended(this);
  };
}

export const h2: MuxServing = {
  attach(conn, ctx) {
    return new H2Connection(conn, ctx);
  },
  adopt() {
    throw new Error('mux h2: an HTTP/2 connection never moves to another generation (its handOver declines)');
  },
};
