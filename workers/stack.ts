import type { MessagePort } from 'node:worker_threads';
import { Backend } from '../src/backend/backend';
import type { ServerPush } from '../src/proto/server-push';
import type { Config } from '../src/config/types';
import type { TlsTerminator } from '../src/conn/tls/terminator';
import { DatagramHandlers } from '../src/datagram/handlers';
import { Router } from '../src/http/router';
import { handPoolsOver } from '../src/http/server-link';
import { shareOf } from '../src/lib/share';
import { Acceptor } from '../src/listener/acceptor';
import { Frontend } from '../src/listener/frontend';
import { Listener } from '../src/listener/listener';
import { Receiver } from '../src/listener/receiver';
import type { Logger } from '../src/log/log';
import { decodeEnvelope, encodeEnvelope } from '../src/proto/envelope';
import type { FlowEnvelope } from '../src/proto/flow-envelope';
import type { FromThread, SocketRef, StatsWhat, ToThread } from '../src/proto/ipc';
import { StatsRequests, type ServiceContext } from '../src/services';
import { handOverSessions, moveSessions } from '../src/stream/handover';
import type { Departure } from '../src/stream/session';
import { letGo, readAfresh } from '../src/conn/handles';
import type { StackSnapshot } from '../src/proto/snapshot';
import { Departures } from './departures';
import { threadSnapshot } from './thread-snapshot';

export type ThreadIdentity = ServiceContext;

/**
 * Everything one thread runs, wired together: a listener per bind over its own dups of the master's
 * sockets, the acceptor that admits TCP sessions, the datagram handlers of the UDP frontends, and
 * the backends with this thread's counters. It talks to its coordinator only through `up` and
 * `handle`, the same way whether it runs on the worker process's main thread or in a worker thread.
 */
export class ThreadStack {
  private readonly frontends: Frontend[] = [];
  private readonly backends = new Map<string, Backend>();
  private readonly listeners = new Map<string, Listener>();
  private readonly acceptor: Acceptor;
  private readonly datagrams: DatagramHandlers;
  private stopping = false;
  private drained = false;
  private started = false;
  private readonly departures: Departures;
  /** The `stats` service's requests to the master. */
  private readonly stats: StatsRequests;

  constructor(
    config: Config,
    private readonly id: ThreadIdentity,
    private readonly log: Logger,
    /** To the coordinator; `sockets` ride beside the message (rearm requests have none). */
    private readonly up: (msg: FromThread, sockets?: object[]) => void,
    /** MessagePorts to the sibling threads of the group, by thread (none to itself, none inline). */
    ports: readonly (MessagePort | null)[] = [],
  ) {
    const threads = config.global.groups * config.global.threads;
    this.departures = new Departures(id, up);
    const stats = new StatsRequests((ref, what) => this.up({ type: 'stats', ref, what }));
    this.stats = stats;
    const ask = (what: StatsWhat): Promise<string | undefined> => stats.ask(what);
    for (const b of Object.values(config.backends)) this.backends.set(b.name, new Backend(b, threads, (s, reason) => this.up({ type: 'observed', backend: b.name, server: s.name, reason }), ask));
    this.acceptor = new Acceptor(this.frontends, shareOf(config.global.maxconn, threads), log, id, () => this.drainedYet());
    const toGroup = (group: number, frontend: number, datagrams: number, packet: Uint8Array): void => this.up({ type: 'redispatch', group, frontend, datagrams, packet });
    this.datagrams = new DatagramHandlers(config, id, this.backends, ports, toGroup, log, () => this.drainedYet());
    for (const fc of Object.values(config.frontends)) {
      const frontend = new Frontend(fc, shareOf(fc.maxconn, threads));
      this.frontends.push(frontend);
      if (fc.mode !== 'udp') this.serve(frontend);
    }
  }

  /** A TCP frontend: its backend and router in the acceptor, a listener per bind. */
  private serve(frontend: Frontend): void {
    const fc = frontend.config;
    const backend = this.backends.get(fc.backend)!;
    this.acceptor.serve(frontend, backend, fc.mode === 'http' ? new Router(fc.rules ?? [], this.backends, backend) : undefined);
    for (const bind of fc.bind) {
      // node:tls loads only in a thread with a TLS bind.
      const tls: TlsTerminator | undefined = bind.tls === undefined ? undefined : new (require('../src/conn/tls/terminator') as typeof import('../src/conn/tls/terminator')).TlsTerminator(bind.text, bind.tls);
      const receiver = new Receiver(bind, fc.backlog, this.acceptor.acceptOn(frontend, bind.text, tls, bind.acceptProxy), (err) => this.receiverFailed(bind.text, err));
      const listener = new Listener(receiver, (rid) => this.up({ type: 'rearm', id: rid }));
      frontend.listeners.push(listener);
      this.listeners.set(bind.key, listener);
    }
  }

  /** Starts every listener on its first dup; reports ready once all of them accept. */
  start(targets: ReadonlyMap<string, SocketRef>): void {
    const udpBinds = this.datagrams.binds();
    let pending = this.listeners.size + udpBinds.length;
    const ready = (): void => {
      if (--pending > 0) return;
      this.started = true;
      this.up({ type: 'ready' });
    };
    if (pending === 0) return void setImmediate(ready);
    const missing = (text: string): void => this.up({ type: 'failed', reason: `no socket received for ${text}: the worker may be out of file descriptors (raise its limit of open files: LimitNOFILE= in the unit, ulimit -n)` });
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
      case 'handedOver':
        this.departures.settled(msg.id, msg.ok);
        break;
      case 'stop':
        this.stop(msg.handOver);
        break;
      case 'adopt':
        if ('session' in msg.handOver) this.acceptor.adopt(decodeEnvelope(msg.handOver.session), sockets[0], sockets[1]);
        else this.up({ type: 'adopted', id: msg.handOver.id, closed: !this.datagrams.adopt(msg.handOver.flow, sockets, this.id.generation, this.sendFlow) });
        break;
      case 'readDatagrams':
        this.datagrams.read();
        break;
      case 'handOverFlows':
        this.datagrams.handOver(this.id.generation, this.sendFlow);
        this.up({ type: 'flowsOut' });
        break;
      case 'kill':
        this.datagrams.kill();
        this.acceptor.kill();
        break;
      case 'servers':
        this.settle(msg);
        break;
      case 'statsAnswer':
        this.stats.answer(msg.ref, msg.body);
        break;
      case 'datagram':
        this.datagrams.fromThread(msg.packet);
        break;
      case 'undelivered':
        this.datagrams.undelivered(msg.frontend, msg.datagrams);
        break;
    }
  }

  get generation(): number {
    return this.id.generation;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Sessions whose sockets left for a newer generation. */
  get handedOver(): number {
    return this.departures.sessions;
  }

  /**
   * A reload in place: a newer generation's stack in this same thread takes every session that can
   * move, in memory (no socket leaves the thread); the rest finish here.
   */
  retire(successor: () => ThreadStack): void {
    this.stopping = true;
    this.datagrams.stop(false);
    this.acceptor.stop(false);
    this.log.info({ sessions: this.acceptor.count, to: successor().generation }, 'thread stopping: another generation in this thread takes its sessions over');
    // Its idle server connections go too: the sessions it hands over reuse them there.
    handPoolsOver(this.backends.values(), successor().backends);
    // The successor is asked at each session's departure: reloads that follow quickly may have
    // stopped the one that served when this stack began to leave.
    const counted = (): void => void this.departures.sessions++;
    void moveSessions(this.acceptor.sessions, this.id.generation, () => successor().acceptor, async (departure) => {
      successor().adoptHere(departure);
      counted();
      return true;
    }, counted);
    this.drainedYet();
  }

  /** Carries on a session an older stack of this thread handed over: its sockets change hands, not threads. */
  private adoptHere(departure: Departure): void {
    readAfresh(departure.client);
    if (departure.server !== undefined) readAfresh(departure.server);
    // The handle's own byte counts carry on in the socket that wraps it here: the envelope keeps the rest.
    const { bytesRead, bytesWritten } = departure.client as { bytesRead: number; bytesWritten: number };
    const envelope = { ...departure.envelope, bytesIn: departure.envelope.bytesIn - bytesRead, bytesOut: departure.envelope.bytesOut - bytesWritten };
    this.acceptor.adopt(envelope, departure.client, departure.server);
    departure.sockets.forEach(letGo);
  }

  /** `counters`: without the oldest sessions. */
  snapshot(counters?: boolean): StackSnapshot {
    return threadSnapshot({ id: this.id, listeners: this.listeners.values(), frontends: this.frontends, backends: this.backends.values(), acceptor: this.acceptor, datagrams: this.datagrams }, counters);
  }

  /** Applies the master's settings, health and addresses of servers (those of servers unknown here are ignored). */
  settle(settings: ServerPush): void {
    for (const backend of this.backends.values()) backend.settle(settings);
  }

  /**
   * With a next generation (`handOver`), the UDP receivers stop being read and the thread says it is
   * quiet: datagrams read before are on their way to the threads that own their flows, which keep
   * the flows until the master sends `handOverFlows` (master/datagram-gate.ts); the sessions go at
   * once. Without one, flows end and sessions finish what is under way.
   */
  private stop(handOver: boolean): void {
    this.stopping = true;
    this.datagrams.stop(handOver);
    if (handOver) this.up({ type: 'quiet' });
    this.acceptor.stop(!handOver);
    this.log.info({ sessions: this.acceptor.count, handOver }, 'thread stopping: no longer accepting');
    if (handOver) void handOverSessions(this.acceptor.sessions, this.id.generation, ({ envelope, client, server }) => this.departures.send({ session: encodeEnvelope(envelope) }, server === undefined ? [client] : [client, server]));
    this.drainedYet();
  }

  private readonly sendFlow = (flow: FlowEnvelope, sockets: object[]): Promise<boolean> => this.departures.send({ flow }, sockets);

  /** A stopping thread has drained once its sessions and its flows are gone. */
  private drainedYet(): void {
    if (!this.stopping || this.drained || this.acceptor.count > 0 || this.datagrams.size > 0) return;
    this.drained = true;
    for (const backend of this.backends.values()) for (const server of backend.servers) server.pool.clear();
    const handedOver = this.departures.sessions;
    if (handedOver > 0) this.log.info({ handedOver }, 'sessions handed over to the next generation');
    // The worker may exit as soon as it hears of this, before this thread's lines would leave.
    this.log.flush();
    this.up({ type: 'drained' });
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
