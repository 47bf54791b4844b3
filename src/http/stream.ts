import type { Socket } from 'node:net';
import type { Backend } from '../backend/backend';
import type { PickContext } from '../backend/balance';
import type { Connection } from '../conn/connection';
import { owned } from '../conn/read-slab';
import type { ProxyEnds } from '../proto/proxy-ends';
import { connectToServer, type ConnectSink } from '../backend/connect';
import type { Waiter } from '../backend/queue';
import type { Server } from '../backend/server';
import { Slot } from '../backend/slot';
import type { Stage, Termination, Who } from '../proto/termination';
import { logRequest } from './access-log';
import type { ClientSide, Responder } from './client-side-t';
import { bodyReader } from './body';
import type { BodyReader } from './body-reader-t';
import { ChunkedBody } from './chunked';
import { HttpRefusal } from './refusal';
import type { RequestHead } from './request-head';
import { ResponseHeadReader, type ResponseHead } from './response-head';
import { serverRequestHead } from './rewrite';
import { ServerLink, type LinkClose, type LinkUser } from './server-link';

/** Methods a request may be sent again with, its effect being the same (RFC 9110 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

/**
 * One request and its response: a slot on a server (the backend's admission and queue), a server
 * connection from the server's pool or a new one, the rewritten request head and the body as it
 * comes (with back-pressure both ways), the response head checked and rewritten, its body framed
 * for the client, the server connection back to the pool when both sides allow it, and one
 * access-log line. Errors before any response byte become the proxy's own 502, 503 or 504.
 */
export class HttpStream implements Waiter, ConnectSink, LinkUser {
  private readonly slot: Slot;
  private link: ServerLink | undefined;
  /** A connect attempt under way (owned until it connects or fails). */
  private connecting: Socket | undefined;
  private serverName = '-';
  /** The server it last went to, which counts the request. */
  private counted: Server | undefined;
  private readonly body: BodyReader | undefined;
  private requestDone: boolean;
  private readonly reader: ResponseHeadReader;
  private response: ResponseHead | undefined;
  /** Response bytes read but not yet a whole head. */
  private pending: Buffer | undefined;
  /** When the first of them came. */
  private pendingSince = 0;
  private responseBody: BodyReader | undefined;
  private responder: Responder | undefined;
  /** A chunked response the responder wants decoded: the decoder writes the data, and keeps the trailers. */
  private decoder: ChunkedBody | undefined;
  /** The server sent more than its response: its connection cannot be reused. */
  private overrun = false;
  private retries = 0;
  /** Body bytes written to the current server connection: once there are some, the request cannot go again. */
  private bodySent = 0;
  private bytesIn: number;
  private bytesOut = 0;
  /** When it got its slot, connected (0: it reused a pooled connection, or never connected), sent the head, got the response head. */
  private slottedAt = 0;
  private connectedAt = 0;
  private sentAt = 0;
  private respondedAt = 0;
  private done = false;
  private reason: string | undefined;
  /** The proxy's own status, when it answered instead of a server. */
  private status = 0;

  constructor(
    private readonly client: ClientSide,
    readonly req: RequestHead,
    /** Where the frontend's rules sent it. */
    private readonly backend: Backend,
    /** When its first byte came: its place in the queue. */
    readonly acceptedAt: number,
    /** When its head was whole. */
    private readonly headAt: number,
    headBytes: number,
  ) {
    const { ctx } = client;
    this.slot = new Slot(backend, this);
    this.body = bodyReader(req.framing, ctx.frontend.limits);
    this.requestDone = this.body === undefined;
    this.reader = new ResponseHeadReader(ctx.frontend.limits);
    this.bytesIn = headBytes;
  }

  get waiting(): boolean {
    return this.slot.waiting;
  }

  get server(): string {
    return this.serverName;
  }

  get pickContext(): PickContext {
    return { client: this.client.address, request: this.req };
  }

  /** Takes a slot, or waits for one; with no usable server at all, answers 503 at once rather than wait. */
  start(): void {
    if (!this.backend.servers.some((s) => s.usable)) return this.fail(503, 'P', 'no server is usable');
    const server = this.slot.request();
    if (server !== undefined) this.served(server);
  }

  served(server: Server): void {
    this.slot.hold(server);
    this.slottedAt = Date.now();
    // The pool holds what backend/ knows of a link (PooledLink); only HTTP streams park any, and they park ServerLinks.
    const link = server.pool.take(this.owner(server)) as ServerLink | undefined;
    if (link !== undefined) return this.send(link);
    connectToServer(this.backend, server, this.pickContext, this);
  }

  /** What a PROXY header to a server says of the client (sendProxy). */
  clientEnds(): ProxyEnds | undefined {
    return this.client.conn.ends;
  }

  /** Connections to a server that sends PROXY headers belong to the client connection they spoke for. */
  private owner(server: Server): object | undefined {
    return server.sendProxy === undefined ? undefined : this.client.conn;
  }

  expired(): void {
    this.fail(503, 's', 'no server slot within timeout.queue');
  }

  attempting(server: Server, socket: Socket): void {
    this.slot.hold(server);
    this.connecting = socket;
    this.serverName = server.name;
    this.counted = server;
  }

  connected(server: Server, socket: Socket, retries: number): void {
    this.connecting = undefined;
    this.retries += retries;
    this.connectedAt = Date.now();
    this.send(new ServerLink(socket, server, this.owner(server)));
  }

  failed(who: Who, retries: number, tls?: string): void {
    this.connecting = undefined;
    this.retries += retries;
    // A server whose TLS ferry refuses answered, in a way: a bad gateway, not an unavailable one.
    if (tls !== undefined) return this.fail(502, who, tls);
    this.fail(503, who, who === 'P' ? 'no server is usable for a retry' : 'could not connect to a server');
  }

  /**
   * Sends body bytes from the start of `buf`: how many belong to this request's body (0 once the
   * body is whole, and while the server connection is not ready: the caller keeps them).
   */
  clientData(buf: Buffer): number {
    const { body, link } = this;
    if (body === undefined || this.requestDone || link === undefined) return 0;
    let end: number;
    try {
      end = body.read(buf, 0);
    } catch (e) {
      if (!(e instanceof HttpRefusal)) throw e;
      this.fail(400, 'P', e.reason);
      return buf.length;
    }
    this.bytesIn += end;
    this.bodySent += end;
    if (!link.out.write(end === buf.length ? buf : buf.subarray(0, end))) this.client.pauseInput();
    if (body.done) {
      this.requestDone = true;
      this.client.requestRead();
      if (this.response !== undefined && this.responseBody === undefined) this.complete();
    }
    return end;
  }

  serverDrained(): void {
    this.client.resumeInput();
  }

  /** The client can take more: read on from the server. */
  clientDrained(): void {
    this.link?.socket.resume();
  }

  serverData(data: Buffer): void {
    const { client } = this;
    client.cork();
    if (this.response === undefined) this.responseHead(data);
    else this.relay(data, 0);
    // Writes held by the cork say nothing of the client's buffer: sending them does.
    if (!client.uncork()) this.link?.socket.pause();
  }

  serverEnded(who: Who): void {
    const link = this.link;
    this.link = undefined;
    if (this.done) return;
    if (link !== undefined && this.retryable(link, who)) return this.retry(link);
    if (this.responseBody !== undefined && this.response !== undefined && !this.responseBody.done && this.response.framing.kind === 'close' && who === 'S') {
      return this.complete();
    }
    if (this.response === undefined) {
      return this.fail(who === 's' ? 504 : 502, who, who === 's' ? 'no response within timeout.server' : 'the server closed the connection before responding');
    }
    this.fail(undefined, who, 'the server closed the connection during the response');
  }

  /**
   * The client closed or broke its connection, or idled past its timeout ('c'). Its timeout counts
   * only while something is asked of it: its body once the server connection can take it, and taking
   * the response. Meanwhile the waits are the server's (timeout.queue, timeout.connect, timeout.server),
   * and a client that sent its whole request may stay silent through them.
   */
  clientGone(who: Who): void {
    if (this.done) return;
    if (who === 'c' && this.response === undefined && (this.requestDone || this.link === undefined)) return;
    if (who === 'c' && this.response === undefined) return this.fail(408, 'c', 'the client sent no body byte within timeout.client');
    this.fail(undefined, who, who === 'c' ? 'client timeout' : 'the client closed the connection');
  }

  /**
   * A reused connection that the server closed before any response byte most likely idled out on
   * the server's side as the request went: the request goes again, on a fresh connection, when the
   * server cannot have acted on it: nothing of its body was sent, and either its method is
   * idempotent or it has a body (the server never had it whole).
   */
  private retryable(link: ServerLink, who: Who): boolean {
    if (who !== 'S' || link.requests < 2 || this.response !== undefined || this.pending !== undefined || this.bodySent > 0) return false;
    return (IDEMPOTENT.has(this.req.method) || this.body !== undefined) && this.retries < this.backend.config.retries;
  }

  private retry(link: ServerLink): void {
    link.destroy('retry');
    this.closed(link);
    this.retries++;
    this.sentAt = 0;
    this.slottedAt = Date.now();
    connectToServer(this.backend, link.server, this.pickContext, this);
  }

  private drop(link: ServerLink, reason: LinkClose): void {
    link.destroy(reason);
    this.closed(link);
  }

  /** Says why a server connection was closed (debug level: one line per connection). */
  private closed(link: ServerLink): void {
    const { log } = this.client.ctx;
    if (log.isLevelEnabled('debug')) log.debug({ server: link.server.name, reason: link.closedFor, requests: link.requests, client: this.client.client }, 'server connection closed');
  }

  /** Ends it now, with no response if none was under way (hard stop). */
  terminate(who: Who): void {
    this.fail(undefined, who, 'killed');
  }

  private send(link: ServerLink): void {
    const { ctx } = this.client;
    this.link = link;
    this.serverName = link.server.name;
    this.counted = link.server;
    link.server.total++;
    link.use(this, this.backend.config.timeout.server);
    this.sentAt = Date.now();
    const head = serverRequestHead(this.req, ctx.frontend.config.http!, { address: this.client.address, proto: this.client.scheme, certSubject: verifiedSubject(this.client.conn) }, link.server);
    link.out.write(head);
    if (!this.requestDone) this.client.linkReady();
  }

  private responseHead(data: Buffer): void {
    const buf = this.pending === undefined ? data : Buffer.concat([this.pending, data]);
    let head: ResponseHead;
    let end: number;
    try {
      end = this.reader.read(buf);
      if (end === -1) {
        // A server that trickles its head keeps its socket active: the head must be whole within timeout.server of its first byte.
        const now = Date.now();
        if (this.pending === undefined) this.pendingSince = now;
        const limit = this.backend.config.timeout.server;
        if (limit > 0 && now - this.pendingSince >= limit) return this.fail(504, 's', 'the response head took longer than timeout.server');
        this.pending = owned(buf);
        return;
      }
      head = this.reader.head(this.req.method);
    } catch (e) {
      if (!(e instanceof HttpRefusal)) throw e;
      return this.fail(502, 'S', e.status === 400 ? `the server sent ${e.reason}` : e.reason);
    }
    this.pending = undefined;
    const { req } = this;
    if ((head.status === 101 && req.upgrade !== undefined) || (req.method === 'CONNECT' && head.status >= 200 && head.status < 300)) return this.switchToTunnel(head, buf, end);
    if (head.status < 200) return this.interim(head, buf, end);
    this.respond(head);
    this.relay(buf, end);
  }

  /** Sends the switching response, logs the request, and hands both sockets to a tunnel. */
  private switchToTunnel(head: ResponseHead, buf: Buffer, end: number): void {
    const link = this.link!;
    this.link = undefined;
    this.response = head;
    this.respondedAt = Date.now();
    this.bytesOut += this.client.switched(head);
    const socket = link.release();
    this.finish('--');
    this.client.tunnel(socket, link.server, end < buf.length ? owned(buf.subarray(end)) : Buffer.alloc(0));
  }

  /** A 1xx response goes on to HTTP/1.1 clients (100 Continue above all); the final one follows. */
  private interim(head: ResponseHead, buf: Buffer, end: number): void {
    if (head.status === 101) return this.fail(502, 'S', 'the server switched protocols without being asked to');
    this.bytesOut += this.client.interim(this.req, head);
    this.reader.reset();
    if (end < buf.length) this.responseHead(buf.subarray(end));
  }

  /** Chooses how the body reaches the client, and sends the head. */
  private respond(head: ResponseHead): void {
    const { limits } = this.client.ctx.frontend;
    this.response = head;
    this.respondedAt = Date.now();
    const responder = (this.responder = this.client.responder(this.req, head, this.requestDone));
    if (head.framing.kind === 'chunked' && responder.decoded) {
      this.responseBody = this.decoder = new ChunkedBody(limits, (b, s, e) => this.write(b.subarray(s, e)));
    } else {
      this.responseBody = bodyReader(head.framing, limits);
    }
    responder.head();
  }

  /** Relays response body bytes from buf[start]; completes the exchange at the body's end. */
  private relay(buf: Buffer, start: number): void {
    const body = this.responseBody;
    if (body === undefined) {
      if (start < buf.length) this.overrun = true;
      return this.requestDone ? this.complete() : undefined;
    }
    let end: number;
    try {
      end = body.read(buf, start);
    } catch (e) {
      if (!(e instanceof HttpRefusal)) throw e;
      return this.fail(undefined, 'S', `the server sent ${e.reason}`);
    }
    if (end > start && this.decoder === undefined) this.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
    if (!body.done) return;
    if (end < buf.length) this.overrun = true;
    this.complete();
  }

  private write(data: Buffer): void {
    if (!this.responder!.data(data)) this.link?.socket.pause();
  }

  /** The response is whole: the server connection goes back to its pool if both sides allow it. */
  private complete(): void {
    const responder = this.responder!;
    responder.end(this.decoder?.trailers);
    const link = this.link;
    this.link = undefined;
    if (link !== undefined) {
      const reusable = this.response!.keepAlive && this.requestDone && !this.overrun && link.alive;
      if (!reusable || !link.server.pool.park(link)) this.drop(link, 'final');
    }
    this.finish('--');
    this.client.responded(responder.keepAlive);
  }

  /**
   * Ends the exchange on a failure: the client gets `status` when no response byte has gone out
   * yet, and its connection closes either way; the server connection closes, its slot goes back.
   */
  private fail(status: number | undefined, who: Who, reason: string): void {
    if (this.done) return;
    const stage = this.stage();
    this.reason = reason;
    if (this.link !== undefined) this.drop(this.link, 'drop');
    this.link = undefined;
    this.connecting?.destroy();
    this.connecting = undefined;
    const answer = this.response === undefined ? status : undefined;
    if (answer !== undefined) this.status = answer;
    this.finish(`${who}${stage}`);
    this.client.failed(answer);
  }

  private stage(): Stage {
    if (this.response !== undefined) return 'D';
    if (this.sentAt !== 0) return this.requestDone ? 'H' : 'R';
    return this.slot.waiting ? 'Q' : 'C';
  }

  private finish(termination: Termination): void {
    this.done = true;
    this.slot.leaveQueue();
    this.slot.release();
    this.log(termination);
  }

  private log(termination: Termination): void {
    const now = Date.now();
    logRequest(this.client, this.req, {
      backend: this.backend.name,
      server: this.serverName,
      status: this.response?.status ?? this.status,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut + (this.responder?.bytes ?? 0),
      requestMs: this.headAt - this.acceptedAt,
      queueMs: this.slot.queueMs(now),
      connectMs: this.connectedAt !== 0 ? this.connectedAt - this.slottedAt : this.sentAt !== 0 ? 0 : -1,
      responseMs: this.respondedAt === 0 ? -1 : this.respondedAt - this.sentAt,
      totalMs: now - this.acceptedAt,
      retries: this.retries,
      reused: this.connectedAt === 0 && this.sentAt !== 0,
      termination,
      reason: this.reason,
      counters: this.counted === undefined ? [this.backend.traffic] : [this.backend.traffic, this.counted.traffic],
    });
  }
}

/** The subject of the client's certificate, when it verified. */
function verifiedSubject(conn: Connection): string | undefined {
  const cert = conn.tls?.client;
  return cert?.verified === true ? cert.subject : undefined;
}
