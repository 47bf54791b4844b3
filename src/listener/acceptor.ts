import type { Socket } from 'node:net';
import type { Backend } from '../backend/backend';
import { Connection } from '../conn/connection';
import { socketFrom } from '../conn/handles';
import { ProxyHeaderReader } from '../conn/proxy/reader';
import { Handshake } from '../conn/tls/handshake';
import type { TlsTerminator } from '../conn/tls/terminator';
import type { Logger } from '../log/log';
import { selectMux } from '../mux';
import type { Envelope } from '../proto/envelope';
import type { SocketRef } from '../proto/ipc';
import type { Session, SessionTaker } from '../stream/session';
import type { StreamContext } from '../stream/session';
import type { Frontend } from './frontend';
import { FrontendContext, type SessionOwner } from './frontend-context';
import type { ListenerState } from '../proto/snapshot';

/** What the acceptor tells the thread: a session ended (the thread may have drained). */
export type Released = () => void;

/**
 * A thread's admission of TCP sessions: it counts them per frontend and per thread, puts every
 * listener in the state the limits call for, reads PROXY headers, runs TLS handshakes, and gives
 * each connection to the mux its frontend (and ALPN) selects. Sessions handed over by an older generation enter here too,
 * counted the same way.
 */
export class Acceptor implements SessionOwner, SessionTaker {
  /** Live sessions: what a snapshot lists, a hand-over moves and a hard stop ends. */
  readonly sessions = new Set<Session>();
  /** Connections accepted whose PROXY header or TLS handshake is under way: sessions already, not streams yet. */
  private readonly handshakes = new Set<Handshake | ProxyHeaderReader>();
  private readonly contexts = new Map<Frontend, StreamContext>();
  /** Sessions of every frontend, handshakes included. */
  count = 0;
  /** The thread stops: listeners pause, and sessions that ask are told not to linger. */
  stopping = false;
  /** A session handed over is starting (its mux calls `began` at once): the backend counts it apart. */
  adopting = false;

  constructor(
    private readonly frontends: readonly Frontend[],
    /** This thread's share of global.maxconn. */
    private readonly maxconn: number,
    private readonly log: Logger,
    private readonly service: StreamContext['service'],
    private readonly released: Released,
  ) {}

  /** Serves `frontend`'s TCP sessions with `backend` (and `router`, HTTP mode); returns its accept callback for one bind. */
  serve(frontend: Frontend, backend: Backend, router: StreamContext['router']): void {
    this.contexts.set(frontend, new FrontendContext(frontend, backend, this.log, this.service, router, this));
  }

  /**
   * The accept callback of one of `frontend`'s binds: a bind without TLS accepts with no handshake
   * at all, and one without `acceptProxy` reads no PROXY header (the choice is made here, once).
   */
  acceptOn(frontend: Frontend, bind: string, tls: TlsTerminator | undefined, acceptProxy = false): (socket: Socket) => void {
    const ctx = this.contexts.get(frontend)!;
    if (acceptProxy) return (s) => this.acceptProxied(frontend, ctx, bind, tls, s);
    return tls === undefined ? (s) => this.accept(frontend, ctx, s) : (s) => this.acceptTls(frontend, ctx, tls, s);
  }

  /** Carries on a session an older generation handed over, counted as if accepted here. */
  adopt(envelope: Envelope, client: SocketRef | undefined, server: SocketRef | undefined): void {
    const frontend = this.frontends.find((f) => f.name === envelope.frontend);
    const ctx = frontend === undefined ? undefined : this.contexts.get(frontend);
    if (client === undefined) return this.log.error({ client: envelope.client }, 'handed-over session lost: no client socket came with it');
    if (frontend === undefined || ctx === undefined) {
      this.log.warn({ client: envelope.client, frontend: envelope.frontend, generations: envelope.generations }, 'handed-over session closed: its frontend is gone');
      socketFrom(client).destroy();
      if (server !== undefined) socketFrom(server).destroy();
      return;
    }
    this.enter(frontend);
    const conn = new Connection(socketFrom(client), 'raw', envelope.proxied);
    const serverSocket = server === undefined ? undefined : socketFrom(server);
    serverSocket?.setNoDelay(true);
    conn.ctrl.setNoDelay(true);
    this.asAdopted(() => selectMux(frontend.config.mode).adopt(conn, ctx, envelope, serverSocket));
  }

  /** A reload in place: a session of an older stack in this thread carries on here, counted as if accepted here. */
  take(session: Session, frontendName: string, mode: string): StreamContext | undefined {
    if (this.stopping) return undefined;
    const frontend = this.frontends.find((f) => f.name === frontendName && f.config.mode === mode);
    const ctx = frontend === undefined ? undefined : this.contexts.get(frontend);
    if (frontend === undefined || ctx === undefined) return undefined;
    this.enter(frontend);
    this.asAdopted(() => ctx.began(session));
    return ctx;
  }

  /** No more accepts; with `finish`, sessions that can are asked to end after what is under way. */
  stop(finish: boolean): void {
    this.stopping = true;
    if (finish) for (const session of this.sessions) session.stop?.();
    this.applyLimits();
  }

  /** The hard stop: every handshake and session ends now. */
  kill(): void {
    for (const handshake of this.handshakes) handshake.abort();
    for (const session of this.sessions) session.terminate('K');
  }

  private accept(frontend: Frontend, ctx: StreamContext, socket: Socket): void {
    this.admit(frontend);
    selectMux(frontend.config.mode).attach(new Connection(socket, 'raw'), ctx);
  }

  private acceptTls(frontend: Frontend, ctx: StreamContext, tls: TlsTerminator, socket: Socket): void {
    this.admit(frontend);
    this.handshake(frontend, ctx, tls, new Connection(socket, 'tls'));
  }

  /**
   * A connection whose PROXY header is awaited counts as a session from its accept on; once the
   * header is read, its source is the client, and TLS (if the bind has it) or the mux goes on with
   * the bytes after it. A connection without a valid header ends with one log line.
   */
  private acceptProxied(frontend: Frontend, ctx: StreamContext, bind: string, tls: TlsTerminator | undefined, socket: Socket): void {
    this.admit(frontend);
    const conn = new Connection(socket, tls === undefined ? 'raw' : 'tls');
    const { proxyHeader } = frontend.config.timeout;
    const reader = new ProxyHeaderReader(conn, proxyHeader, (failure) => {
      this.handshakes.delete(reader);
      if (failure !== undefined) {
        const { termination, reason } = failure;
        frontend.ended(termination);
        this.log.warn({ client: conn.client, frontend: frontend.name, bind, termination, reason, totalMs: Date.now() - conn.acceptedAt }, 'proxy header refused');
        return this.release(frontend);
      }
      if (tls !== undefined) return this.handshake(frontend, ctx, tls, conn);
      selectMux(frontend.config.mode).attach(conn, ctx);
    });
    this.handshakes.add(reader);
  }

  /**
   * A TLS connection's mux is chosen once the handshake has settled ALPN. A failed handshake ends it
   * with one log line.
   */
  private handshake(frontend: Frontend, ctx: StreamContext, tls: TlsTerminator, conn: Connection): void {
    const counters = frontend.tls!;
    const handshake = new Handshake(conn, tls, frontend.config.timeout.handshake, (failure) => {
      this.handshakes.delete(handshake);
      if (failure === undefined) {
        counters.handshakes++;
        return void selectMux(frontend.config.mode, conn.alpn).attach(conn, ctx);
      }
      counters.failures++;
      const { termination, reason } = failure;
      frontend.ended(termination);
      this.log.warn({ client: conn.client, frontend: frontend.name, bind: tls.bind, termination, reason, totalMs: Date.now() - conn.acceptedAt }, 'tls handshake failed');
      this.release(frontend);
    });
    this.handshakes.add(handshake);
  }

  private admit(frontend: Frontend): void {
    frontend.accepted++;
    this.enter(frontend);
  }

  /** A session of `frontend` counts from now on: accepted here, or come from an older generation. */
  private enter(frontend: Frontend): void {
    frontend.sessions++;
    this.count++;
    this.applyLimits();
  }

  /** Runs `start`, in which a session that came from an older generation begins: the backend counts it apart. */
  private asAdopted(start: () => void): void {
    this.adopting = true;
    try {
      start();
    } finally {
      this.adopting = false;
    }
  }

  /** A session ended: a stream, or a TLS connection whose handshake failed. */
  release(frontend: Frontend, session?: Session): void {
    if (session !== undefined) this.sessions.delete(session);
    frontend.sessions--;
    this.count--;
    this.applyLimits();
    this.released();
  }

  /** Puts every listener in the state the limits call for; only transitions cost anything. */
  applyLimits(): void {
    const limited = this.count >= this.maxconn;
    for (const frontend of this.frontends) {
      const state: ListenerState = this.stopping ? 'paused' : limited ? 'limited' : frontend.full ? 'full' : 'ready';
      for (const listener of frontend.listeners) {
        if (listener.state === state) continue;
        if (state === 'ready') listener.resume();
        else listener.suspend(state);
      }
    }
  }

}
