import type { Socket } from 'node:net';
import type { Backend } from '../backend/backend';
import { closing, type Cut } from '../conn/closing';
import { ConnFlag, type Connection } from '../conn/connection';
import { readDirectly } from '../conn/handle-reader';
import { HandleWriter } from '../conn/handle-writer';
import { owned } from '../conn/read-slab';
import { restartTimeout } from '../conn/stream-handle';
import { heldBy, type Envelope } from '../proto/envelope';
import { logCut } from '../http/access-log';
import { proxyResponse } from '../http/errors';
import { HttpRefusal } from '../http/refusal';
import { exchangeFor } from '../http/exchange';
import type { Exchange } from '../http/exchange-t';
import { H1Response } from '../http/h1-response';
import { h2Preface } from '../http/h2-preface';
import { RequestHeadReader, type RequestHead } from '../http/request-head';
import type { ResponseHead } from '../http/response-head';
import type { Reply } from '../http/reply';
import { interimHead, tunnelHead } from '../http/rewrite';
import type { ClientSide } from '../http/client-side-t';
import type { Departure, Session, SessionTaker, StreamContext } from '../stream/session';
import type { SessionSnapshot } from '../proto/snapshot';
import type { Server } from '../backend/server';
import { flushed, movable, rawHandle, stopReading, Stream, takingOver, type Origin } from '../stream/stream';
import type { Who } from '../proto/termination';
import { selectMux, type MuxServing } from './registry';

const NO_GENERATIONS: readonly number[] = [];
const NO_BYTES = Buffer.alloc(0);

/**
 * HTTP/1.1 on a client connection: reads request heads, runs one HttpStream per request, one at a
 * time (pipelined requests wait, read but unparsed, and are answered in order), and keeps the
 * connection open between requests (timeout.httpKeepAlive) when both the client and the response
 * allow it. The head of a request must arrive within timeout.httpRequest (408 otherwise). Once the
 * head is whole the client has timeout.client for what is asked of it: its body, and taking the
 * response; the waits for a slot, a connection and the response are the server's. When ferry has
 * answered and ends the connection, it reads and drops what the client still sends until the client
 * closes, for timeout.clientFin at most once its FIN is out (src/conn/closing.ts).
 */
export class H1Connection implements ClientSide, Session {
  readonly socket;
  readonly client: string;
  generations: readonly number[];
  closing = false;
  readonly protocol = 'h1';
  /** Bytes read from the client and not yet used: a head in progress, body bytes, pipelined requests. */
  private input: Buffer | undefined;
  private reader: RequestHeadReader;
  private current: Exchange | undefined;
  /** When the first byte of the request being read came; 0: none is. */
  private requestStartedAt = 0;
  private requests = 0;
  private processing = false;
  private done = false;
  /** Ferry has ended its side: the connection is closing (src/conn/closing.ts). */
  private shut = false;
  /** The deadline of a request head that did not come whole at once (timeout.httpRequest from its first byte). */
  private headTimer: NodeJS.Timeout | undefined;
  /** A hand-over or a move waits for the current response to end: the connection then leaves, idle; or it ends first. */
  private leaving: { go(): void; cancel(): void } | undefined;
  private readonly origin: Origin;
  /** Writes to the client, below node's streams where the socket allows. */
  private readonly out: HandleWriter;
  /** Gives the client socket's reads back to node: whoever reads it next (a tunnel, h2, closing) reads through node. */
  private readonly readByNode: () => void;

  constructor(
    readonly conn: Connection,
    /** The stack's context: a newer stack's after a reload in place (moveTo). */
    public ctx: StreamContext,
    origin?: Origin,
  ) {
    const socket = (this.socket = conn.ctrl);
    this.client = conn.client;
    this.origin = origin ?? { acceptedAt: conn.acceptedAt, connectedAt: 0, bytesIn: 0, bytesOut: 0, retries: 0, generations: [] };
    this.generations = this.origin.generations.length > 0 ? this.origin.generations : NO_GENERATIONS;
    this.reader = new RequestHeadReader(ctx.frontend.limits);
    ctx.began(this);
    for (const [event, listener] of this.listeners()) socket.on(event, listener);
    this.out = new HandleWriter(socket);
    this.readByNode = readDirectly(socket, this.onData);
  }

  private listeners(): [string, (...args: any[]) => void][] { // eslint-disable-line @typescript-eslint/no-explicit-any
    return [
      ['data', this.onData],
      ['end', this.onEnd],
      ['timeout', this.onTimeout],
      ['drain', this.onDrain],
      ['error', this.onError],
      ['close', this.onClose],
    ];
  }

  /**
   * Starts reading requests, beginning with `early`, bytes read before by an older generation (for
   * which the connection was between requests: it gets the keep-alive timeout, not the request's).
   */
  start(early: Buffer = NO_BYTES, moved = false): void {
    const { timeout } = this.ctx.frontend.config;
    restartTimeout(this.socket, moved ? timeout.httpKeepAlive! : timeout.httpRequest!);
    if (moved) this.requests++;
    if (early.length > 0) this.onData(early);
  }

  get waiting(): boolean {
    return this.current?.waiting ?? false;
  }

  describe(): SessionSnapshot {
    const { ctx } = this;
    return { acceptedAt: this.origin.acceptedAt, client: this.client, frontend: ctx.frontend.name, backend: ctx.backend.name, server: this.current?.server ?? '-', generations: [...this.generations] };
  }

  get address(): string | undefined {
    return this.conn.address;
  }

  get scheme(): 'http' | 'https' {
    return this.conn.xprt === 'tls' ? 'https' : 'http';
  }

  pauseInput(): void {
    this.socket.pause();
  }

  resumeInput(): void {
    this.socket.resume();
  }

  cork(): void {
    this.out.cork();
  }

  uncork(): boolean {
    return this.out.uncork();
  }

  responder(req: RequestHead, res: ResponseHead, requestDone: boolean): H1Response {
    return new H1Response(this.send, req, res, this.closing, requestDone);
  }

  /** 1xx responses (100 Continue above all) go on to HTTP/1.1 clients; HTTP/1.0 ones would not know them. */
  interim(req: RequestHead, res: ResponseHead): number {
    return req.minor === 1 ? this.write(interimHead(res)) : 0;
  }

  fixed(req: RequestHead, reply: Reply, keepAlive: boolean): number {
    const bytes = reply.bytes(req.method, req.minor, keepAlive);
    this.send(bytes);
    return bytes.length;
  }

  switched(res: ResponseHead): number {
    return this.write(tunnelHead(res));
  }

  private readonly send = (data: string | Buffer): boolean => this.out.write(data);

  private write(text: string): number {
    this.send(text);
    return text.length;
  }

  linkReady(): void {
    // The client timeout runs since the head came: the body must keep coming within it. Body bytes
    // that came before the server connection was ready may have paused the socket (feed): it reads
    // on now, or the client would stall until its timeout.
    this.socket.resume();
    this.process();
  }

  requestRead(): void {
    // Waiting for the response is the server's time (timeout.server): the exchange lets a client
    // timeout pass meanwhile, and the client timeout runs on while the response goes out.
  }

  /**
   * The connection leaves HTTP: a TCP stream carries it on as a tunnel, with the bytes the client
   * sent after its request. It takes this session's place in the thread (and writes its own log
   * line when it ends).
   */
  tunnel(server: Socket, to: Server, toClient: Buffer): void {
    const { socket } = this;
    for (const [event, listener] of this.listeners()) socket.off(event, listener);
    this.out.uncork();
    this.readByNode();
    const toServer = this.input ?? NO_BYTES;
    this.input = undefined;
    this.current = undefined;
    this.clearHeadTimer();
    const origin = { ...this.origin, connectedAt: Date.now() };
    // The tunnel is this session from now on: no end of it here, or the thread would count it gone.
    this.done = true;
    this.leaving?.cancel();
    this.leaving = undefined;
    new Stream(this.conn, takingOver(this.ctx, this), origin).adoptTunnel(server, to.name, to, toServer, toClient);
  }

  responded(keepAlive: boolean): void {
    this.current = undefined;
    if (!keepAlive || this.closing) return this.close();
    if (this.leaving !== undefined) {
      const { go } = this.leaving;
      this.leaving = undefined;
      return go();
    }
    this.readNext();
  }

  /** Between requests: reads and serves the next one. */
  private readNext(): void {
    this.socket.resume();
    this.waitForRequest();
    this.process();
  }

  failed(status: number | undefined): void {
    this.current = undefined;
    this.leaving?.cancel();
    this.leaving = undefined;
    if (status === undefined) {
      this.socket.destroy();
      return;
    }
    this.shutDown(proxyResponse(status));
  }

  /** Stops after the request under way: an idle connection closes now, a busy one after its response. */
  stop(): void {
    this.closing = true;
    if (this.current === undefined && this.requestStartedAt === 0) this.close();
  }

  async handOver(generation: number): Promise<Departure | undefined> {
    if (this.done || this.closing) return undefined;
    // A TLS connection's state lives in this process: it finishes here, as on a stop (its request
    // under way answered with Connection: close, an idle one closed), and the client reconnects.
    if (this.conn.xprt !== 'raw') {
      this.stop();
      return undefined;
    }
    if (this.current === undefined) return this.handOverNow(generation);
    return new Promise((resolve) => (this.leaving = { go: () => void this.handOverNow(generation).then(resolve), cancel: () => resolve(undefined) }));
  }

  /**
   * A reload in place: the connection carries on under the newer stack of this thread, once the
   * response under way (if any) has gone, with its socket, its TLS state and its bytes read as they
   * are; nothing is rebuilt. False when it ends first, or when the newer stack has no HTTP frontend
   * of its name. (`take` can only fail before it counts the session in, so `done` cannot change
   * between the two.)
   */
  async moveTo(to: () => SessionTaker, generation: number, moved: () => void): Promise<boolean> {
    if (this.done || this.closing) return false;
    if (this.current !== undefined && !(await new Promise<boolean>((resolve) => (this.leaving = { go: () => resolve(true), cancel: () => resolve(false) })))) return false;
    const ctx = to().take(this, this.ctx.frontend.name, 'http');
    if (ctx === undefined || this.done) return false;
    moved();
    this.conn.leaveListener();
    this.ctx.ended(this);
    this.ctx = ctx;
    this.generations = heldBy(this.generations, generation);
    // A head begun keeps the reader that has read its start.
    if (this.requestStartedAt === 0 && this.reader.limits !== ctx.frontend.limits) this.reader = new RequestHeadReader(ctx.frontend.limits);
    this.readNext();
    return true;
  }

  handedOver(): void {
    this.finish();
    this.socket.destroy();
  }

  terminate(who: Who): void {
    if (this.done) return;
    this.current?.terminate(who);
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.input = this.input === undefined ? chunk : Buffer.concat([this.input, chunk]);
    this.process();
    // What is left of a borrowed chunk (a head begun, a request held) is kept past the read.
    if (this.input !== undefined) this.input = owned(this.input);
  };

  /**
   * Feeds what the client sent to the request under way, or reads the next request head. A call
   * from within (a stream that became ready while starting) leaves the work to the loop under way.
   */
  private process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      this.feed();
    } finally {
      this.processing = false;
    }
  }

  private feed(): void {
    while (this.input !== undefined && !this.done) {
      const current = this.current;
      if (current !== undefined) {
        const used = current.clientData(this.input);
        if (used === 0) {
          // Held for later (the server connection is not ready, or these are pipelined requests).
          if (this.input.length > this.ctx.frontend.limits.maxHead) this.socket.pause();
          return;
        }
        this.consume(used);
      } else if (this.closing && this.requestStartedAt === 0) {
        // No next request (a head begun before a stop is read on, and answered with Connection: close).
        return;
      } else if (!this.readHead(this.input)) {
        return;
      }
    }
  }

  /** Reads on in a request head; true once a request started with it. */
  private readHead(input: Buffer): boolean {
    const { frontend } = this.ctx;
    const now = Date.now();
    const first = this.requestStartedAt === 0;
    if (first) this.requestStartedAt = now;
    if (this.requests === 0 && this.conn.xprt === 'raw') {
      const preface = h2Preface(input);
      if (preface === 'yes') this.toH2(input);
      else if (preface === 'more') this.partialHead(first, now);
      if (preface !== 'no') return false;
    }
    let end: number;
    let backend: Backend;
    let stream: Exchange;
    try {
      end = this.reader.read(input);
      if (end === -1) {
        // A client that trickles its head in keeps the socket active: the deadline counts from its first byte.
        if (now - this.requestStartedAt >= frontend.config.timeout.httpRequest!) this.refuse(408, 'the request head took longer than timeout.httpRequest', 'c');
        else this.partialHead(first, now);
        return false;
      }
      const head = this.reader.head();
      backend = this.ctx.router?.route(head) ?? this.ctx.backend;
      stream = exchangeFor(this, head, backend, this.requestStartedAt, now, end);
    } catch (e) {
      if (!(e instanceof HttpRefusal)) throw e;
      this.refuse(e.status, e.reason, 'P');
      return false;
    }
    this.reader.reset();
    this.requestStartedAt = 0;
    this.clearHeadTimer();
    // From here the client has timeout.client for what is asked of it (src/http/stream.ts clientGone).
    restartTimeout(this.socket, frontend.clientTimeout);
    this.requests++;
    frontend.requests++;
    backend.requests++;
    this.current = stream;
    this.consume(end);
    if (!stream.req.keepAlive) this.closing = true;
    stream.start();
    return true;
  }

  /**
   * h2c with prior knowledge: the client's first bytes are the HTTP/2 connection preface. The h2
   * mux serves the connection from here, in this session's place, starting with those bytes.
   */
  private toH2(input: Buffer): void {
    const { socket, ctx } = this;
    for (const [event, listener] of this.listeners()) socket.off(event, listener);
    this.readByNode();
    this.clearHeadTimer();
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(owned(input));
    this.input = undefined;
    this.done = true;
    selectMux('http', 'h2').attach(this.conn, takingOver(ctx, this));
  }

  private consume(n: number): void {
    const input = this.input;
    // A failure on the way may have dropped the input already.
    if (input !== undefined) this.input = n >= input.length ? undefined : input.subarray(n);
  }

  /**
   * A head that did not come whole at once: its deadline is armed, once per request (a head that
   * comes in one read, the usual case, costs no timer). A request after the first one had the
   * keep-alive timeout until now; from its first byte, the socket's inactivity is bounded like the head.
   */
  private partialHead(first: boolean, now: number): void {
    const { httpRequest } = this.ctx.frontend.config.timeout;
    if (first && this.requests > 0) restartTimeout(this.socket, httpRequest!);
    this.headTimer ??= setTimeout(this.onHeadTimeout, this.requestStartedAt + httpRequest! - now);
  }

  private clearHeadTimer(): void {
    if (this.headTimer === undefined) return;
    clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }

  private readonly onHeadTimeout = (): void => {
    this.headTimer = undefined;
    if (this.requestStartedAt !== 0 && this.current === undefined && !this.shut && !this.done) this.refuse(408, 'the request head took longer than timeout.httpRequest', 'c');
  };

  /** Answers a request the proxy will not forward, logs it, and closes. */
  private refuse(status: number, reason: string, who: Who): void {
    const { ctx } = this;
    const now = Date.now();
    ctx.frontend.requests++;
    ctx.frontend.ended(`${who}R`);
    // Counted by the frontend alone: no backend was chosen for it.
    ctx.frontend.traffic.request(status, this.input?.length ?? 0, 0, 0, -1, now - this.requestStartedAt);
    ctx.access?.info(
      { client: this.client, frontend: ctx.frontend.name, backend: ctx.backend.name, server: '-', status, bytesIn: this.input?.length ?? 0, requestMs: now - this.requestStartedAt, totalMs: now - this.requestStartedAt, termination: `${who}R`, reason },
      'request refused',
    );
    this.requestStartedAt = 0;
    this.failed(status);
  }

  /** Between requests: the next one must begin within timeout.httpKeepAlive. */
  private waitForRequest(): void {
    restartTimeout(this.socket, this.ctx.frontend.config.timeout.httpKeepAlive!);
  }

  private close(): void {
    this.shutDown(undefined);
  }

  /**
   * Ferry has answered what it will (`last`, if anything, is its final answer): it ends its side and
   * wants nothing more from the client. Until ferry's FIN is out the client must take the last bytes
   * within timeout.client; then it has timeout.clientFin to close, and what it sends meanwhile is
   * dropped (src/conn/closing.ts).
   */
  private shutDown(last: Buffer | undefined): void {
    this.closing = true;
    this.input = undefined;
    this.leaving?.cancel();
    this.leaving = undefined;
    if (this.shut || this.done) return;
    this.shut = true;
    this.clearHeadTimer();
    const { socket, ctx } = this;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('timeout', this.onTimeout);
    socket.off('drain', this.onDrain);
    this.readByNode();
    ctx.frontend.closing++;
    this.out.end(last);
    closing(socket, { flushMs: ctx.frontend.clientTimeout, finMs: ctx.frontend.config.timeout.clientFin, cut: this.onCut });
  }

  private readonly onCut = (why: Cut, dropped: number): void => {
    logCut(this.ctx, this.client, this.protocol, this.origin.acceptedAt, why, dropped);
  };

  private readonly onEnd = (): void => {
    // The client sends nothing more: answer what it asked, then close.
    this.closing = true;
    if (this.current === undefined) this.close();
  };

  private readonly onTimeout = (): void => {
    if (this.current !== undefined) return this.current.clientGone('c');
    if (this.requestStartedAt !== 0) return this.refuse(408, 'the request head took longer than timeout.httpRequest', 'c');
    // Idle between requests (or before the first): close quietly, there is nothing to answer.
    this.close();
  };

  private readonly onDrain = (): void => {
    this.current?.clientDrained();
  };

  private readonly onError = (): void => {
    this.conn.flags |= ConnFlag.Error;
  };

  private readonly onClose = (): void => {
    this.current?.clientGone('C');
    this.current = undefined;
    this.clearHeadTimer();
    if (this.shut && !this.done) this.ctx.frontend.closing--;
    this.finish();
  };

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.leaving?.cancel();
    this.leaving = undefined;
    this.ctx.ended(this);
  }

  /** Hands the idle connection over, with the bytes of a next request it may have begun. */
  private async handOverNow(generation: number): Promise<Departure | undefined> {
    const { socket } = this;
    if (this.done || !movable(socket)) return undefined;
    socket.setTimeout(0);
    this.clearHeadTimer();
    this.out.uncork();
    this.readByNode();
    const read = stopReading(socket, undefined);
    const toServer = this.input === undefined ? read : Buffer.concat([this.input, read]);
    this.input = undefined;
    await flushed(socket);
    if (this.done) return undefined;
    if (!movable(socket)) {
      this.terminate('K');
      return undefined;
    }
    const envelope: Envelope = {
      frontend: this.ctx.frontend.name,
      backend: this.ctx.backend.name,
      client: this.client,
      ...(this.conn.proxied !== undefined && { proxied: this.conn.proxied }),
      acceptedAt: this.origin.acceptedAt,
      connectedAt: 0,
      bytesIn: this.origin.bytesIn + socket.bytesRead,
      bytesOut: this.origin.bytesOut + socket.bytesWritten,
      retries: 0,
      generations: heldBy(this.generations, generation),
      toServer,
      toClient: NO_BYTES,
    };
    return { envelope, client: rawHandle(socket), sockets: [socket] };
  }
}

export const h1: MuxServing = {
  attach(conn, ctx) {
    const session = new H1Connection(conn, ctx);
    session.start();
    return session;
  },
  adopt(conn, ctx, envelope) {
    const session = new H1Connection(conn, ctx, envelope);
    session.start(envelope.toServer, true);
    return session;
  },
};
