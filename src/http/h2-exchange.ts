import type { Connection } from '../conn/connection';
import type { Socket } from 'node:net';
import { owned } from '../conn/read-slab';
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { StreamContext } from '../stream/session';
import type { Who } from '../proto/termination';
import { chunkHead, lastChunk } from './chunked';
import { proxyText } from './errors';
import type { Fields } from './fields';
import { h2Request, h2Trailers } from './h2-request';
import { HttpRefusal } from './refusal';
import type { RequestHead } from './request-head';
import type { ResponseHead } from './response-head';
import { forwarded } from './rewrite';
import { exchangeFor } from './exchange';
import type { Exchange } from './exchange-t';
import type { Reply } from './reply';
import type { ClientSide, Responder } from './client-side-t';

const CRLF = Buffer.from('\r\n', 'latin1');
const NO_GENERATIONS: readonly number[] = [];

/** The HTTP/2 connection an exchange belongs to. */
export interface H2Owner {
  readonly ctx: StreamContext;
  readonly client: string;
  readonly address: string | undefined;
  readonly conn: Connection;
  readonly scheme: 'http' | 'https';
  /** The exchange is over: its stream is closed or closing. */
  finished(exchange: H2Exchange): void;
}

/**
 * One HTTP/2 stream gatewayed to an HTTP/1.1 server (an HttpStream does the server side): the
 * request's HEADERS become the head, its DATA the body (chunked when the client gave no length,
 * with its trailers), and the response goes back as HEADERS, DATA and trailers, fields lower case.
 * Flow control is node:http2's: the stream is paused while the server cannot take more, and the
 * server's socket while the client's window is shut.
 */
export class H2Exchange implements ClientSide, Responder {
  readonly protocol = 'h2';
  readonly closing = false;
  readonly decoded = true;
  readonly keepAlive = true;
  /** An HTTP/2 connection never moves between generations. */
  readonly generations: readonly number[] = NO_GENERATIONS;
  bytes = 0;
  private http: Exchange | undefined;
  /** Body bytes (in the request's HTTP/1.1 framing) read from the client that the server connection cannot take yet. */
  private readonly pending: Buffer[] = [];
  private chunked = false;
  private trailers: Fields | undefined;
  /** Trailers of the response, sent when node:http2 asks for them. */
  private responseTrailers: Fields | undefined;
  private over = false;
  private response: ResponseHead | undefined;

  constructor(
    private readonly owner: H2Owner,
    private readonly stream: ServerHttp2Stream,
  ) {
    stream.on('data', this.onData);
    stream.on('trailers', this.onTrailers);
    stream.on('end', this.onEnd);
    stream.on('drain', this.onDrain);
    stream.on('timeout', this.onTimeout);
    stream.on('error', () => {});
    stream.on('close', this.onClose);
  }

  get ctx(): StreamContext {
    return this.owner.ctx;
  }

  get client(): string {
    return this.owner.client;
  }

  get address(): string | undefined {
    return this.owner.address;
  }

  get conn(): Connection {
    return this.owner.conn;
  }

  get scheme(): 'http' | 'https' {
    return this.owner.scheme;
  }

  get waiting(): boolean {
    return this.http?.waiting ?? false;
  }

  get server(): string {
    return this.http?.server ?? '-';
  }

  /** Reads the request's HEADERS and sends it on; a request the gateway refuses gets its status here. */
  start(headers: IncomingHttpHeaders, raw: readonly string[], ended: boolean): void {
    const { frontend } = this.ctx;
    const now = Date.now();
    let request;
    try {
      request = h2Request(headers, raw, ended, frontend.limits.maxHead);
    } catch (e) {
      if (!(e instanceof HttpRefusal)) throw e;
      return this.refuse(e.status, e.reason, headers);
    }
    const { kind } = request.head.framing;
    this.chunked = kind === 'chunked';
    // The client must keep its body coming; once it is whole, the wait is the server's (timeout.server).
    if (kind !== 'none') this.stream.setTimeout(frontend.clientTimeout);
    const backend = this.ctx.router?.route(request.head) ?? this.ctx.backend;
    const http = (this.http = exchangeFor(this, request.head, backend, now, now, request.bytes));
    http.start();
  }

  terminate(who: Who): void {
    this.http?.terminate(who);
  }

  /** The stream, or the whole connection, closed before the exchange was over. */
  lost(): void {
    if (!this.over) this.http?.clientGone('C');
    this.done();
  }

  pauseInput(): void {
    this.stream.pause();
  }

  resumeInput(): void {
    this.stream.resume();
  }

  cork(): void {
    this.stream.cork();
  }

  uncork(): boolean {
    this.stream.uncork();
    return !this.stream.writableNeedDrain;
  }

  responder(_req: RequestHead, res: ResponseHead): Responder {
    this.response = res;
    return this;
  }

  /** A 1xx (100 Continue, 103 Early Hints) goes on as an informational HEADERS frame. */
  interim(_req: RequestHead, res: ResponseHead): number {
    if (res.status !== 101 && !this.stream.destroyed) this.stream.additionalHeaders(h2Fields(res.fields, res.connection, { ':status': res.status }));
    return 0;
  }

  linkReady(): void {
    this.feed();
    if (this.pending.length === 0) this.stream.resume();
  }

  requestRead(): void {
    // Waiting for the response is the server's time, bounded by timeout.server.
    this.stream.setTimeout(0);
  }

  /** Never called: an HTTP/2 request carries no Upgrade, and CONNECT is refused before it goes anywhere. */
  switched(): number {
    return 0;
  }

  tunnel(socket: Socket): void {
    socket.destroy();
    this.reset();
  }

  /**
   * The response's HEADERS. Trailers can only follow when the stream was told to wait for them
   * before its head went out: it waits when the server announced them (a chunked response with a
   * Trailer field).
   */
  head(): void {
    const res = this.response!;
    const trailers = res.framing.kind === 'chunked' && res.fields.get('trailer') !== undefined;
    try {
      this.stream.respond(h2Fields(res.fields, res.connection, { ':status': res.status }), { waitForTrailers: trailers });
    } catch (e) {
      // node:http2 refuses what HTTP/2 cannot carry (a field it takes once, sent twice): the stream ends.
      this.ctx.log.warn({ client: this.client, frontend: this.ctx.frontend.name, server: this.server, reason: (e as Error).message }, 'h2 response head refused');
      return this.reset();
    }
    if (trailers) this.stream.once('wantTrailers', this.onWantTrailers);
  }

  data(buf: Buffer): boolean {
    this.bytes += buf.length;
    return this.stream.write(owned(buf));
  }

  end(trailers: Fields | undefined): void {
    this.responseTrailers = trailers !== undefined && trailers.length > 0 ? trailers : undefined;
    if (!this.stream.writableEnded) this.stream.end();
  }

  responded(): void {
    this.done();
  }

  failed(status: number | undefined): void {
    if (status === undefined || this.stream.headersSent) this.reset();
    else this.answer(status);
    this.done();
  }

  private readonly onData = (chunk: Buffer): void => {
    // After the response (the server answered before the body's end), the rest has nowhere to go.
    if (this.over) return;
    this.pending.push(this.chunked ? Buffer.concat([Buffer.from(chunkHead(chunk.length), 'latin1'), chunk, CRLF]) : chunk);
    this.feed();
  };

  private readonly onTrailers = (headers: IncomingHttpHeaders): void => {
    this.trailers = h2Trailers(headers);
  };

  private readonly onEnd = (): void => {
    if (!this.chunked) return;
    this.pending.push(Buffer.from(lastChunk(this.trailers), 'latin1'));
    this.feed();
  };

  private readonly onWantTrailers = (): void => {
    const trailers = this.responseTrailers;
    if (trailers === undefined) this.stream.close();
    else this.stream.sendTrailers(h2Fields(trailers, [], {}));
  };

  private readonly onDrain = (): void => this.http?.clientDrained();
  private readonly onTimeout = (): void => this.http?.clientGone('c');

  private readonly onClose = (): void => this.lost();

  /** Gives the server what it can take of the body read so far; the rest waits, the stream paused. */
  private feed(): void {
    const { http, pending } = this;
    while (http !== undefined && pending.length > 0 && !this.over) {
      const buf = pending[0];
      const used = http.clientData(buf);
      if (used === 0) {
        this.stream.pause();
        return;
      }
      if (used < buf.length) pending[0] = buf.subarray(used);
      else pending.shift();
    }
  }

  private refuse(status: number, reason: string, headers: IncomingHttpHeaders): void {
    const { ctx } = this;
    ctx.frontend.requests++;
    ctx.frontend.ended('PR');
    // Counted by the frontend alone: no backend was chosen for it.
    ctx.frontend.traffic.request(status, 0, 0, 0, -1, 0);
    ctx.access?.info({ client: this.client, protocol: this.protocol, frontend: ctx.frontend.name, backend: ctx.backend.name, server: '-', method: headers[':method'], path: headers[':path'], status, termination: 'PR', reason }, 'request refused');
    this.answer(status);
    this.done();
  }

  /** A built-in service's fixed response, as HEADERS and DATA frames; the body's bytes. */
  fixed(req: RequestHead, reply: Reply): number {
    if (this.stream.destroyed) return 0;
    const headers: OutgoingHttpHeaders = { ':status': reply.status };
    for (const [name, value] of reply.headers) headers[name.toLowerCase()] = value;
    const bodyless = req.method === 'HEAD' || reply.status === 204 || reply.status === 304;
    if (!bodyless) headers['content-length'] = reply.content.length;
    this.stream.respond(headers);
    this.stream.end(bodyless ? undefined : reply.content);
    return bodyless ? 0 : reply.content.length;
  }

  /** The proxy's own response, when no response byte has gone out. */
  private answer(status: number): void {
    if (this.stream.destroyed) return;
    const body = proxyText(status);
    this.stream.respond({ ':status': status, 'content-type': 'text/plain', 'content-length': body.length, 'cache-control': 'no-cache' });
    this.stream.end(body);
  }

  private reset(): void {
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  private done(): void {
    if (this.over) return;
    this.over = true;
    this.pending.length = 0;
    this.owner.finished(this);
  }
}

/** An HTTP/1.1 message's end-to-end fields as HTTP/2 fields: lower case, repeated names as lists. */
function h2Fields(fields: Fields, connection: readonly string[], into: OutgoingHttpHeaders): OutgoingHttpHeaders {
  for (let i = 0; i < fields.length; i++) {
    const name = fields.name(i);
    if (!forwarded(name, connection)) continue;
    const value = fields.value(i);
    const had = into[name];
    if (had === undefined) into[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else into[name] = [String(had), value];
  }
  return into;
}
