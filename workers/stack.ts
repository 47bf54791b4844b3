import type { Socket } from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import { Backend } from '../src/backend/backend';
import type { Config } from '../src/config/types';
import { Connection } from '../src/conn/connection';
import type { Flow } from '../src/datagram/flow';
import type { FlowEnvelope } from '../src/proto/flow-envelope';
import { DatagramHandler } from '../src/datagram/handler';
import { decodeBatch } from '../src/datagram/redispatch-packet';
import { Redispatcher } from '../src/datagram/redispatcher';
import { decodeEnvelope, encodeEnvelope } from '../src/proto/envelope';
import { closeRef, fdOf, socketFrom } from '../src/conn/handles';
import { Frontend } from '../src/listener/frontend';
import { Router } from '../src/http/router';
import type { FromThread, SocketRef, ToThread } from '../src/proto/ipc';
import { Listener, type ListenerState } from '../src/listener/listener';
import type { Logger } from '../src/log/log';
import { selectMux } from '../src/mux';
import { Receiver } from '../src/listener/receiver';
import { shareOf } from '../src/lib/share';
import { Handshake } from '../src/conn/tls/handshake';
import type { TlsTerminator } from '../src/conn/tls/terminator';
import type { ServiceContext } from '../src/services';
import type { ServerPush } from '../src/backend/server';
import { OLDEST_SESSIONS, type FrontendSnapshot, type ThreadSnapshot } from '../src/proto/snapshot';
import type { Session } from '../src/stream/session';
import type { Detached, StreamContext } from '../src/stream/stream';

export type ThreadIdentity = ServiceContext;

/**
 * Everything one thread runs: a listener per bind over its own dups of the master's sockets, the
 * frontends and backends with this thread's counters, and the live streams. It talks to its
 * coordinator only through `up` and `handle`, the same way whether it runs on the worker process's
 * main thread or in a worker thread.
 */
export class ThreadStack {
  private readonly frontends: Frontend[] = [];
  private readonly backends = new Map<string, Backend>();
  private readonly listeners = new Map<string, Listener>();
  /** UDP frontends' handlers, by frontend name. */
  private readonly datagrams = new Map<string, DatagramHandler>();
  private readonly streams = new Set<Session>();
  /** TLS connections accepted whose handshake is under way: sessions already, not streams yet. */
  private readonly handshakes = new Set<Handshake>();
  private readonly contexts = new Map<Frontend, StreamContext>();
  private readonly maxconn: number;
  private sessions = 0;
  private stopping = false;
  /** Stopping with a next generation to hand over to. */
  private migrating = false;
  /** Hard stop: a flow whose hand-over fails ends rather than stays. */
  private killed = false;
  private drained = false;
  private started = false;
  private handedOver = 0;
  /** Detached streams and flows whose sockets are on their way out, by hand-over reference: what to do once they left, or failed to. */
  private readonly leaving = new Map<number, (ok: boolean) => void>();
  private nextRef = 0;

  constructor(
    config: Config,
    private readonly id: ThreadIdentity,
    private readonly log: Logger,
    /** To the coordinator; `sockets` ride beside the message (rearm requests have none). */
    private readonly up: (msg: FromThread, sockets?: object[]) => void,
    /** MessagePorts to the sibling threads of the group, by thread (none to itself, none inline). */
    ports: readonly (MessagePort | null)[] = [],
  ) {
    const { groups, threads: perGroup } = config.global;
    const threads = groups * perGroup;
    this.maxconn = shareOf(config.global.maxconn, threads);
    for (const b of Object.values(config.backends)) this.backends.set(b.name, new Backend(b, threads, (s, reason) => this.up({ type: 'observed', backend: b.name, server: s.name, reason })));
    const peers = new Redispatcher(id, groups, perGroup, ports, (group, frontend, datagrams, packet) => this.up({ type: 'redispatch', group, frontend, datagrams, packet }));
    for (const port of ports) port?.on('message', (packet: Uint8Array) => this.fromThread(packet));
    for (const [index, fc] of Object.values(config.frontends).entries()) {
      const frontend = new Frontend(fc, shareOf(fc.maxconn, threads));
      this.frontends.push(frontend);
      if (fc.mode === 'udp') {
        this.datagrams.set(fc.name, new DatagramHandler(fc, index, this.backends.get(fc.backend)!, threads, peers, log, () => this.drainedYet()));
        continue;
      }
      const ctx = this.streamContext(frontend, this.backends.get(fc.backend)!, fc.mode === 'http' ? new Router(fc.rules ?? [], this.backends, this.backends.get(fc.backend)!) : undefined);
      this.contexts.set(frontend, ctx);
      for (const bind of fc.bind) {
        // A bind without TLS accepts exactly as before: the choice is made once, here.
        // node:tls loads only in a thread with a TLS bind.
        const tls = bind.tls === undefined ? undefined : new (require('../src/conn/tls/terminator') as typeof import('../src/conn/tls/terminator')).TlsTerminator(bind.text, bind.tls);
        const accept = tls === undefined ? (s: Socket) => this.accept(frontend, ctx, s) : (s: Socket) => this.acceptTls(frontend, ctx, tls, s);
        const receiver = new Receiver(bind, fc.backlog, accept, (err) => this.receiverFailed(bind.text, err));
        const listener = new Listener(receiver, (rid) => this.up({ type: 'rearm', id: rid }));
        frontend.listeners.push(listener);
        this.listeners.set(bind.key, listener);
      }
    }
  }

  /** Starts every listener on its first dup; reports ready once all of them accept. */
  start(targets: ReadonlyMap<string, SocketRef>): void {
    const udpBinds = [...this.datagrams.values()].flatMap((h) => h.config.bind.map((bind) => ({ bind, handler: h })));
    let pending = this.listeners.size + udpBinds.length;
    const ready = (): void => {
      if (--pending > 0) return;
      this.started = true;
      this.up({ type: 'ready' });
    };
    if (pending === 0) return void setImmediate(ready);
    const missing = (text: string): void => this.up({ type: 'failed', reason: `no socket received for ${text}` });
    for (const [rid, listener] of this.listeners) {
      const target = targets.get(rid);
      if (target === undefined) return missing(listener.receiver.bind.text);
      listener.open(target, ready);
    }
    for (const { bind, handler } of udpBinds) {
      const target = targets.get(bind.key);
      if (target === undefined) return missing(bind.text);
      handler.open(bind, target, ready);
    }
  }

  handle(msg: ToThread, sockets: readonly SocketRef[] = []): void {
    switch (msg.type) {
      case 'rearm':
        if (sockets[0] !== undefined) this.listeners.get(msg.id)?.adopt(sockets[0]);
        break;
      case 'handed':
        this.handed(msg.ref, msg.ok);
        break;
      case 'stop':
        this.stop(msg.migrate);
        break;
      case 'adopt':
        this.adopt(msg.envelope, sockets[0], sockets[1]);
        break;
      case 'adoptFlow':
        this.up({ type: 'adopted', id: msg.id, closed: !this.adoptFlow(msg.flow, sockets[0]) });
        break;
      case 'readDatagrams':
        if (!this.stopping) for (const handler of this.datagrams.values()) handler.read();
        break;
      case 'handOverFlows':
        if (this.migrating) this.handOffFlows();
        break;
      case 'kill':
        this.killed = true;
        this.closeDatagrams();
        for (const handshake of this.handshakes) handshake.abort();
        for (const stream of this.streams) stream.terminate('K');
        break;
      case 'servers':
        this.settle(msg);
        break;
      case 'snapshot':
        this.up({ type: 'snapshot', ref: msg.ref, data: this.snapshot() });
        break;
      case 'datagram':
        this.fromThread(msg.packet);
        break;
      case 'undelivered':
        this.datagramHandler(msg.frontend)?.undelivered(msg.datagrams);
        break;
    }
  }

  /** A batch of datagrams redispatched here by another thread, of this group or another. */
  private fromThread(packet: Uint8Array): void {
    const batch = decodeBatch(packet);
    if (typeof batch === 'string') {
      this.log.warn({ reason: batch }, 'redispatched datagrams refused: malformed');
      return;
    }
    const handler = this.datagramHandler(batch.frontend);
    if (handler === undefined) return this.log.warn({ frontend: batch.frontend }, 'redispatched datagrams refused: no UDP frontend at that index');
    for (const d of batch.datagrams) handler.fromThread(d);
  }

  private datagramHandler(index: number): DatagramHandler | undefined {
    const frontend = this.frontends[index];
    return frontend === undefined ? undefined : this.datagrams.get(frontend.config.name);
  }

  /** Applies the master's settings, health and addresses of servers (those of servers unknown here are ignored). */
  settle(settings: ServerPush): void {
    for (const backend of this.backends.values()) backend.settle(settings);
  }

  private snapshot(): ThreadSnapshot {
    const now = Date.now();
    const oldest = [...this.streams].map((s) => s.describe());
    oldest.sort((a, b) => a.acceptedAt - b.acceptedAt);
    return {
      ...this.id,
      listeners: [...this.listeners.values()].map((l) => ({ id: l.id, state: l.state, accepted: l.receiver.accepted })),
      frontends: this.frontends.map((f) => this.frontendSnapshot(f)),
      backends: [...this.backends.values()].map((b) => {
        b.ramp(now);
        return {
          name: b.name,
          current: b.current,
          total: b.total,
          queue: { current: b.queue.length, max: b.queue.max, total: b.queue.total, timedOut: b.queue.timedOut },
          ...(b.requests > 0 && { requests: b.requests }),
          servers: b.servers.map((s) => ({
            name: s.name,
            address: s.describe(),
            active: s.active,
            total: s.total,
            failures: s.failures,
            state: s.state,
            admin: s.admin,
            backup: s.backup,
            weight: s.userWeight,
            effectiveWeight: Math.round(s.weight * 1000) / 1000,
            maxconn: b.config.servers.find((c) => c.name === s.name)?.maxconn ?? null,
            fromQueue: s.fromQueue,
          })),
        };
      }),
      sessions: this.sessions,
      oldest: oldest.slice(0, OLDEST_SESSIONS),
    };
  }

  /** A UDP frontend counts flows where a TCP one counts sessions. */
  private frontendSnapshot(f: Frontend): FrontendSnapshot {
    const handler = this.datagrams.get(f.name);
    if (handler === undefined) return { name: f.name, current: f.sessions, total: f.accepted, ...(f.tls !== undefined && { tls: { ...f.tls } }), ...(f.config.mode === 'http' && { requests: f.requests }), ...endsOf(f) };
    const c = handler.counters;
    return { name: f.name, current: c.flows, total: c.flowsTotal, datagrams: { ...c } };
  }

  /** Ends every flow but those on their way out, and closes the UDP sockets. */
  private closeDatagrams(): void {
    for (const handler of this.datagrams.values()) handler.close();
  }

  private stop(migrate: boolean): void {
    this.stopping = true;
    this.migrating = migrate;
    if (migrate) this.quieten();
    else this.closeDatagrams();
    if (!migrate) for (const session of this.streams) session.stop?.();
    this.applyLimits();
    this.log.info({ sessions: this.sessions, migrate }, 'thread stopping: no longer accepting');
    if (migrate) void this.migrate();
    this.drainedYet();
  }

  /**
   * Hands every stream that can move to the next generation; those that cannot finish here.
   * Sessions waiting for a server slot leave the queue at once but travel last, once the sessions
   * holding the slots have left: the next generation then counts those slots taken first, and the
   * waiting sessions queue there behind each other rather than take them.
   */
  private async migrate(): Promise<void> {
    const { generation } = this.id;
    const waiting = [...this.streams].filter((s) => s.waiting);
    const holding = [...this.streams].filter((s) => !s.waiting);
    const parked = Promise.all(waiting.map((s) => s.detach(generation)));
    await Promise.all(holding.map(async (s) => this.handOff(s, await s.detach(generation))));
    const detached = await parked;
    await Promise.all(waiting.map((s, i) => this.handOff(s, detached[i])));
  }

  /** Sends a detached stream's sockets to the next generation; resolves once they left, or failed to. */
  private handOff(stream: Session, detached: Detached | undefined): Promise<void> {
    if (detached === undefined) return Promise.resolve();
    const { envelope, client, server } = detached;
    const ref = this.nextRef++;
    return new Promise((left) => {
      this.leaving.set(ref, (ok) => {
        left();
        if (!ok) return stream.terminate('K');
        this.handedOver++;
        stream.handedOver();
      });
      this.up({ type: 'handoff', ref, envelope: encodeEnvelope(envelope) }, server === undefined ? [client] : [client, server]);
    });
  }

  /**
   * Stops reading the UDP receivers, and says so. Datagrams read before are on their way to the
   * threads that own their flows; those threads keep the flows until every thread of the generation
   * is quiet, when the master sends `handOverFlows` (master/datagram-gate.ts). The receivers stay
   * open for the replies of flows that cannot move.
   */
  private quieten(): void {
    for (const handler of this.datagrams.values()) handler.stopReading();
    this.up({ type: 'quiet' });
  }

  /**
   * Sends every flow to the next generation, then says so: the master holds the next generation's
   * UDP reading until each old thread has.
   */
  private handOffFlows(): void {
    for (const handler of this.datagrams.values()) {
      for (const flow of handler.live()) this.handOffFlow(handler, flow);
    }
    this.up({ type: 'flowsOut' });
  }

  /**
   * A flow whose upstream is still connecting, or whose hand-over fails, stays here: it ends when it
   * idles out, or at the hard stop. Its client's datagrams go to the next generation meanwhile.
   */
  private handOffFlow(handler: DatagramHandler, flow: Flow): void {
    const detached = flow.detach(handler.config.name, this.id.generation);
    if (detached === undefined) return;
    const ref = this.nextRef++;
    this.leaving.set(ref, (ok) => {
      if (ok) return handler.handedOver(flow);
      flow.stay();
      if (this.killed) flow.close();
    });
    this.up({ type: 'handoff', ref, flow: detached.envelope }, [detached.upstream]);
  }

  /** The coordinator says whether a detached stream's or flow's sockets left; only then are they closed here. */
  private handed(ref: number, ok: boolean): void {
    const done = this.leaving.get(ref);
    this.leaving.delete(ref);
    done?.(ok);
  }

  /**
   * Takes a flow an older generation handed over, with its upstream socket; false when it was closed
   * instead (logged with the reason). A thread that is itself handing over passes it on at once.
   */
  private adoptFlow(e: FlowEnvelope, upstream: SocketRef | undefined): boolean {
    const about = { client: `${e.client.address}:${e.client.port}`, frontend: e.frontend, server: e.server.name, generations: e.generations };
    if (upstream === undefined) {
      this.log.error(about, 'migrated flow lost: no upstream socket came with it');
      return false;
    }
    const handler = this.datagrams.get(e.frontend);
    const flow = handler === undefined ? `frontend ${e.frontend} is gone or no longer UDP` : handler.adopt(e, fdOf(upstream));
    if (typeof flow === 'string') {
      closeRef(upstream);
      this.log.warn({ ...about, reason: flow, in: e.in, out: e.out, ageMs: Date.now() - e.startedAt }, `migrated flow closed: ${flow}`);
      return false;
    }
    if (this.migrating) this.handOffFlow(handler!, flow);
    else if (this.stopping) flow.close();
    return true;
  }

  /** Takes a session an older generation handed over, as if this thread had accepted it. */
  private adopt(data: string, client: SocketRef | undefined, server: SocketRef | undefined): void {
    const envelope = decodeEnvelope(data);
    const frontend = this.frontends.find((f) => f.name === envelope.frontend);
    if (client === undefined) return this.log.error({ client: envelope.client }, 'migrated session lost: no client socket came with it');
    if (frontend === undefined) {
      this.log.warn({ client: envelope.client, frontend: envelope.frontend, generations: envelope.generations }, 'migrated session closed: its frontend is gone');
      socketFrom(client).destroy();
      if (server !== undefined) socketFrom(server).destroy();
      return;
    }
    frontend.sessions++;
    this.sessions++;
    this.applyLimits();
    const conn = new Connection(socketFrom(client), 'raw');
    const serverSocket: Socket | undefined = server === undefined ? undefined : socketFrom(server);
    serverSocket?.setNoDelay(true);
    conn.ctrl.setNoDelay(true);
    selectMux(frontend.config.mode).adopt(conn, this.contexts.get(frontend)!, envelope, serverSocket);
  }

  /** A stopping thread has drained once its sessions and its flows are gone. */
  private drainedYet(): void {
    if (!this.stopping || this.drained || this.sessions > 0 || [...this.datagrams.values()].some((h) => h.size > 0)) return;
    this.drained = true;
    for (const backend of this.backends.values()) for (const server of backend.servers) server.pool.clear();
    if (this.handedOver > 0) this.log.info({ handedOver: this.handedOver }, 'sessions handed over to the next generation');
    // The worker may exit as soon as it hears of this, before this thread's lines would leave.
    this.log.flush();
    this.up({ type: 'drained' });
  }

  private accept(frontend: Frontend, ctx: StreamContext, socket: Socket): void {
    this.admit(frontend);
    selectMux(frontend.config.mode).attach(new Connection(socket, 'raw'), ctx);
  }

  /**
   * A TLS connection counts as a session from its accept on; its mux is chosen once the handshake
   * has settled ALPN. A failed handshake ends it with one log line.
   */
  private acceptTls(frontend: Frontend, ctx: StreamContext, tls: TlsTerminator, socket: Socket): void {
    this.admit(frontend);
    const conn = new Connection(socket, 'tls');
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
    frontend.sessions++;
    this.sessions++;
    this.applyLimits();
  }

  /** A session ended: a stream, or a TLS connection whose handshake failed. */
  private release(frontend: Frontend, stream?: Session): void {
    if (stream !== undefined) this.streams.delete(stream);
    frontend.sessions--;
    this.sessions--;
    this.applyLimits();
    this.drainedYet();
  }

  /** Puts every listener in the state the limits call for; only transitions cost anything. */
  private applyLimits(): void {
    const limited = this.sessions >= this.maxconn;
    for (const frontend of this.frontends) {
      const state: ListenerState = this.stopping ? 'paused' : limited ? 'limited' : frontend.full ? 'full' : 'ready';
      for (const listener of frontend.listeners) {
        if (listener.state === state) continue;
        if (state === 'ready') listener.resume();
        else listener.suspend(state);
      }
    }
  }

  private streamContext(frontend: Frontend, backend: Backend, router: Router | undefined): StreamContext {
    const stack = this; // eslint-disable-line @typescript-eslint/no-this-alias
    return {
      frontend,
      backend,
      log: this.log,
      service: this.id,
      ...(router !== undefined && { router }),
      get stopping() {
        return stack.stopping;
      },
      began: (stream) => {
        this.streams.add(stream);
        backend.current++;
        backend.total++;
      },
      replaced: (old, next) => {
        this.streams.delete(old);
        this.streams.add(next);
      },
      ended: (stream) => {
        backend.current--;
        this.release(frontend, stream);
      },
    };
  }

  /**
   * Before the thread is ready, a listener that fails means the worker cannot serve: it reports and
   * the master retries later. Afterwards the errors are accept(2) failures (EMFILE, ENFILE, ENOBUFS):
   * libuv has already dealt with the connection, and the listener keeps going.
   */
  private receiverFailed(bind: string, err: Error): void {
    if (this.started) {
      this.log.warn({ bind, err: err.message }, 'accept failed');
      return;
    }
    this.log.error({ bind, err: err.message }, 'listener failed');
    this.log.flush();
    this.up({ type: 'failed', reason: `${bind}: ${err.message}` });
  }
}

/** Closing connections and ends other than the normal one, where a frontend has any. */
function endsOf(f: Frontend): Pick<FrontendSnapshot, 'closing' | 'terminations'> {
  const some = Object.keys(f.terminations).length > 0;
  return { ...(f.closing > 0 && { closing: f.closing }), ...(some && { terminations: { ...f.terminations } }) };
}
