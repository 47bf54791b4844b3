// Entry point of a worker process: the coordinator of one thread group. It receives one dup of every
// receiver per thread from the master, starts the threads, relays the master's orders to them and
// reports their state back. It never binds or accepts itself unless it runs the only thread inline.
import { describeRunAs } from '../src/config/run-as';
import type { Config, RunAs } from '../src/config/types';
import type { SendHandle } from 'node:child_process';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { FromThread, FromWorker, HandOver, ToWorker } from '../src/proto/ipc';
import { PartJoiner, sendParts } from '../src/proto/handover-parts';
import { createLogger, type Logger } from '../src/log/log';
import { fdOf } from '../src/conn/handles';
import type { ServerPush } from '../src/proto/server-push';
import type { StackSnapshot, ThreadSnapshot } from '../src/proto/snapshot';
import { dropPrivileges } from '../src/os/privileges';
import { InlineThread, WorkerThread, type ThreadLink } from './thread-link';
import { needsPeerSockets } from '../src/datagram/peer-path';
import { GroupPeers } from './group-peers';
import { usage } from './usage';
import { closeInheritedShards } from './shard-fds';

closeInheritedShards(process.env);

interface Group {
  config: Config;
  group: number;
  generation: number;
  /** The process's logger; `log` is its child for the serving generation. */
  base: Logger;
  log: Logger;
  /** Dups received for each thread, by receiver id, until the threads start. */
  receivers: Map<string, object>[];
  threads: ThreadLink[];
  ready: number;
  drained: number;
  /** Threads that have stopped reading UDP receivers, and that have sent their UDP flows on (stop with a hand-over). */
  quiet: number;
  flowsOut: number;
  /** Hand-overs from an older generation arriving one socket at a time. */
  adopting: PartJoiner;
  /** The thread that adopts the next session (in turn). */
  nextThread: number;
  /** The master's server settings, health and resolved addresses in force: the threads start with them. */
  servers: ServerPush;
  /** Snapshot requests of the master CLI, by ref: the threads' answers so far. */
  snapshots: Map<number, ThreadSnapshot[]>;
  /** The master's directory for redispatch sockets, and this group's socket there once its threads start. */
  datagramDir: string;
  peers: GroupPeers | undefined;
  /** A reload in place is starting its stacks: a thread's failure is the reload's, not the worker's. */
  reconfiguring: boolean;
  /** A reload in place under way: the next generation's configuration and sockets, until `start`. */
  next: { config: Config; generation: number; receivers: Map<string, object>[] } | undefined;
  /** Per generation stopped in place: how many threads have retired its stack, and the sessions they handed over. */
  retired: Map<number, { threads: number; handedOver: number }>;
  /** The threads' last counters, sent to the master just before the worker exits. */
  final: StackSnapshot[];
  /** The threads' `stats` requests waiting for the master, by the ref the master knows them by. */
  asks: Map<number, { thread: number; ref: number }>;
  nextAsk: number;
}

let state: Group | undefined;

function send(msg: FromWorker, handle?: object, sent?: (err: Error | null) => void): void {
  if (process.send === undefined || !process.connected) return sent?.(new Error('the master is gone'));
  process.send(msg, handle as SendHandle | undefined, sent);
}

function onMaster(msg: ToWorker, handle: object | undefined): void {
  if (msg.type === 'init') return init(msg.config, msg.group, msg.generation, msg.datagramDir);
  const g = state;
  if (g === undefined) return;
  switch (msg.type) {
    case 'reconfigure':
      g.next = { config: msg.config, generation: msg.generation, receivers: g.threads.map(() => new Map()) };
      break;
    case 'receiver':
      if (handle !== undefined) (g.next?.receivers ?? g.receivers)[msg.thread].set(msg.id, handle);
      break;
    case 'start':
      if (g.next === undefined) startThreads(g);
      else reconfigure(g, g.next);
      break;
    case 'rearm':
      if (handle !== undefined) g.threads[msg.thread]?.post({ type: 'rearm', id: msg.id }, [handle]);
      break;
    case 'stop':
      if (msg.generation !== undefined) {
        g.log.info({ stopping: msg.generation }, 'stop requested for one generation in this worker: its sessions go to the newest other one');
        for (const t of g.threads) t.post(msg);
        break;
      }
      g.log.info(msg.handOver ? 'stop requested: handing over what can move, draining the rest' : 'stop requested: draining');
      // Without a next generation, the threads stop reading and end their flows: nothing more to
      // redispatch, nor to receive. With one, datagrams other groups read before they stopped may
      // still come for the flows here, even once these left: the socket stays until the exit.
      if (!msg.handOver) g.peers?.close();
      for (const t of g.threads) t.post({ type: 'stop', handOver: msg.handOver });
      break;
    case 'kill':
      g.log.info({ ...(msg.generation !== undefined && { stopping: msg.generation }) }, 'hard stop: closing every session');
      if (msg.generation === undefined) g.peers?.close();
      for (const t of g.threads) t.post(msg);
      break;
    case 'handOverPart': {
      const joined = handle === undefined ? undefined : g.adopting.take(msg, handle);
      if (joined !== undefined) adopt(g, joined.handOver, joined.sockets);
      break;
    }
    case 'readDatagrams':
    case 'handOverFlows':
      for (const t of g.threads) t.post(msg);
      break;
    case 'statsAnswer': {
      const ask = g.asks.get(msg.ref);
      g.asks.delete(msg.ref);
      if (ask !== undefined) g.threads[ask.thread]?.post({ type: 'statsAnswer', ref: ask.ref, body: msg.body });
      break;
    }
    case 'servers':
      g.servers = { states: msg.states, health: msg.health, addresses: msg.addresses };
      for (const t of g.threads) t.post(msg);
      break;
    case 'snapshot':
      if (g.threads.length === 0) return send({ type: 'snapshot', ref: msg.ref, threads: [], usage: usage() });
      g.snapshots.set(msg.ref, []);
      for (const t of g.threads) t.post(msg);
      break;
  }
}

/**
 * A reload in place: every thread starts a stack of the next generation beside the one that serves,
 * on its own dups of the receivers; `ready` follows once all of them accept, as at a first start.
 */
function reconfigure(g: Group, next: NonNullable<Group['next']>): void {
  g.next = undefined;
  g.ready = 0;
  g.reconfiguring = true;
  g.config = next.config;
  g.generation = next.generation;
  // A child of the one destination: a logger per reload would add a flush at exit each time.
  g.log = g.base.child({ generation: next.generation });
  next.receivers.forEach((receivers, thread) => {
    const ids = [...receivers.keys()];
    g.threads[thread].post({ type: 'reconfigure', config: next.config, generation: next.generation, receivers: ids, servers: g.servers }, ids.map((id) => receivers.get(id)!));
  });
}

/** A thread retired its stack of `generation`; once every thread has, the master hears of it. */
function retired(g: Group, generation: number, handedOver: number): void {
  const so = g.retired.get(generation) ?? { threads: 0, handedOver: 0 };
  so.threads++;
  so.handedOver += handedOver;
  g.retired.set(generation, so);
  if (so.threads < g.threads.length) return;
  g.retired.delete(generation);
  send({ type: 'retired', generation, handedOver: so.handedOver });
}

/** One thread's answer to a snapshot request; the master gets them all in one message. */
function collect(g: Group, ref: number, data: ThreadSnapshot): void {
  const answers = g.snapshots.get(ref);
  if (answers === undefined) return;
  answers.push(data);
  if (answers.length < g.threads.length) return;
  g.snapshots.delete(ref);
  send({ type: 'snapshot', ref, threads: answers.sort((a, b) => a.thread - b.thread), usage: usage() });
}

/**
 * Gives a hand-over from an older generation to one of the threads: a session to each thread in
 * turn, and it belongs to this worker at once; a flow to the thread the master chose, which says
 * itself when it has taken it.
 */
function adopt(g: Group, handOver: HandOver, sockets: object[]): void {
  const flow = 'flow' in handOver;
  const thread = flow ? (handOver.thread ?? 0) : g.nextThread++ % g.threads.length;
  g.threads[thread]?.post({ type: 'adopt', handOver }, sockets);
  if (!flow) send({ type: 'adopted', id: handOver.id, closed: false });
}

/**
 * Sends a thread's hand-over to the master, then tells the thread whether its sockets left: only
 * then may it close its copies.
 */
function handOver(g: Group, thread: number, handOver: HandOver, sockets: object[]): void {
  const fate = 'flow' in handOver ? 'the flow stays until it idles out' : 'the session is closed';
  sendParts(handOver, sockets, (msg, socket, sent) => send(msg, socket, sent), (err) => {
    if (err !== null) g.log.error({ id: handOver.id, err: err.message }, `hand-over failed: ${fate}`);
    g.threads[thread].post({ type: 'handedOver', id: handOver.id, ok: err === null });
  });
}

function init(config: Config, group: number, generation: number, datagramDir: string): void {
  const n = config.global.threads;
  const base = createLogger(config.global.log, { role: 'worker', group });
  const log = base.child({ generation });
  // Before any socket is used or any thread started. Without a state, the messages that follow are ignored.
  if (config.global.runAs !== undefined && !dropTo(config.global.runAs, log)) return;
  state = {
    config,
    group,
    generation,
    base,
    log,
    receivers: Array.from({ length: n }, () => new Map<string, object>()),
    threads: [],
    ready: 0,
    drained: 0,
    quiet: 0,
    flowsOut: 0,
    adopting: new PartJoiner(),
    nextThread: 0,
    servers: { states: [], health: [], addresses: [] },
    snapshots: new Map(),
    datagramDir,
    peers: undefined,
    reconfiguring: false,
    next: undefined,
    retired: new Map(),
    final: [],
    asks: new Map(),
    nextAsk: 0,
  };
}

/** Drops to global.user and global.group; on failure tells the master why and exits. */
function dropTo(target: RunAs, log: Logger): boolean {
  let dropped: boolean;
  try {
    dropped = dropPrivileges(target);
  } catch (err) {
    const reason = `cannot run as ${describeRunAs(target)}: ${(err as Error).message}`;
    log.fatal({ uid: process.getuid!(), gid: process.getgid!() }, `${reason}; the worker exits`);
    send({ type: 'failed', reason }, undefined, () => process.exit(1));
    return false;
  }
  if (dropped) log.info({ user: target.user, uid: process.getuid!(), group: target.group, gid: process.getgid!() }, 'privileges dropped');
  return true;
}

function startThreads(g: Group): void {
  if (!openPeers(g)) return;
  const report = (thread: number, msg: FromThread, sockets: object[]): void => fromThread(g, thread, msg, sockets);
  const ports = siblingPorts(g.receivers.length);
  g.receivers.forEach((receivers, thread) => {
    const id = { group: g.group, thread, generation: g.generation };
    g.threads.push(
      g.receivers.length === 1
        ? new InlineThread(g.config, id, receivers, g.servers, report)
        : new WorkerThread(
            { config: g.config, id, receivers: [...receivers].map(([rid, h]) => [rid, fdOf(h)]), servers: g.servers, ports: ports[thread] },
            report,
            (t, code) => threadExited(g, t, code),
          ),
    );
  });
  g.receivers = [];
}

/** One MessageChannel per pair of threads: ports[a][b] is a's end towards b. */
function siblingPorts(n: number): (MessagePort | null)[][] {
  const ports: (MessagePort | null)[][] = Array.from({ length: n }, () => Array<MessagePort | null>(n).fill(null));
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const { port1, port2 } = new MessageChannel();
      ports[a][b] = port1;
      ports[b][a] = port2;
    }
  }
  return ports;
}

/**
 * Binds this group's redispatch socket when datagrams may cross groups, before the threads start
 * (after privileges were dropped: the master's directory belongs to the workers' user). Until then
 * other groups' sends to it fail and count as dropped there.
 */
function openPeers(g: Group): boolean {
  if (!needsPeerSockets(g.config)) return true;
  try {
    const defer = g.config.global.threads === 1 ? queueMicrotask : setImmediate;
    g.peers = new GroupPeers(g.datagramDir, g.generation, g.group, g.log, (thread, packet) => toThread(g, thread, packet), defer);
    return true;
  } catch (err) {
    const reason = `cannot bind the redispatch socket in ${g.datagramDir}: ${(err as Error).message}`;
    g.log.fatal(reason);
    send({ type: 'failed', reason }, undefined, () => exit(g, 1));
    return false;
  }
}

/** A batch of datagrams another group redispatched to one of this group's threads. */
function toThread(g: Group, thread: number, packet: Uint8Array): void {
  const link = g.threads[thread];
  if (link !== undefined) return link.post({ type: 'datagram', packet });
  g.log.warn({ thread }, 'redispatched datagram refused: no such thread in this group');
}

function fromThread(g: Group, thread: number, msg: FromThread, sockets: object[]): void {
  switch (msg.type) {
    case 'ready':
      if (++g.ready < g.config.global.threads) break;
      g.reconfiguring = false;
      send({ type: 'ready', threads: g.ready });
      break;
    case 'rearm':
      send({ type: 'rearm', id: msg.id, thread });
      break;
    case 'failed':
      g.log.error({ thread, reason: msg.reason }, 'thread failed to start');
      // The master gives up on the new generation: its stacks hand back what they took.
      if (g.reconfiguring) send(msg);
      else exit(g, 1);
      break;
    case 'handOver':
      handOver(g, thread, msg.handOver, sockets);
      break;
    case 'retired':
      retired(g, msg.generation, msg.handedOver);
      break;
    case 'quiet':
      if (++g.quiet === g.config.global.threads) send(msg);
      break;
    case 'flowsOut':
      if (++g.flowsOut === g.config.global.threads) send(msg);
      break;
    case 'adopted':
      send({ type: 'adopted', id: msg.id, closed: msg.closed });
      break;
    case 'snapshot':
      collect(g, msg.ref, msg.data);
      break;
    case 'observed':
      send(msg);
      break;
    case 'redispatch':
      redispatch(g, thread, msg);
      break;
    case 'counters':
      if (msg.last) g.final.push(msg.data);
      else send({ type: 'counters', threads: [msg.data] });
      break;
    case 'stats': {
      const ref = g.nextAsk++;
      g.asks.set(ref, { thread, ref: msg.ref });
      send({ type: 'stats', ref, what: msg.what });
      break;
    }
    case 'drained':
      if (++g.drained === g.config.global.threads) {
        g.log.info('all sessions ended');
        // The exit waits until the master has the last counters: none is lost on a graceful stop.
        send({ type: 'counters', threads: g.final }, undefined, () => exit(g, 0));
      }
      break;
  }
}

/** Sends a thread's batch of datagrams to the owner's group; those that cannot go count as dropped in the thread. */
function redispatch(g: Group, thread: number, msg: Extract<FromThread, { type: 'redispatch' }>): void {
  const undelivered = (): void => g.threads[thread]?.post({ type: 'undelivered', frontend: msg.frontend, datagrams: msg.datagrams });
  if (g.peers === undefined) return undelivered();
  g.peers.send(msg.group, msg.packet, undelivered);
}

function threadExited(g: Group, thread: number, code: number): void {
  if (g.drained === g.config.global.threads) return;
  g.log.error({ thread, code }, 'thread exited unexpectedly: the group stops so that the master replaces it');
  exit(g, 1);
}

function exit(g: Group, code: number): void {
  g.peers?.close();
  g.log.flush();
  process.exit(code);
}

// When the master is gone, node:cluster exits this process from its own 'disconnect' listener: the
// redispatch socket is closed here, on that path and any other exit (idempotent after exit()).
process.on('exit', () => state?.peers?.close());

// These signals are the master's: a terminal's Ctrl-C or a service manager's SIGTERM can reach the
// whole process group, and a worker that died of them would cut its sessions short. The master tells
// workers how to stop; a worker exits on its own only when the master is gone.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const) process.on(signal, () => {});
process.on('message', onMaster);
