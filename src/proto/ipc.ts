// Messages between the master and a worker process (over node:cluster's IPC channel, where listening
// sockets ride along as SCM_RIGHTS handles) and between a worker's coordinator and its threads.
import type { Config } from '../config/types';
import type { FlowEnvelope } from './flow-envelope';
import type { ServerPush } from './server-push';

/** The environment variable that lists the shard fds a worker inherits at fork and closes at once (comma-separated). */
export const SHARD_FDS_ENV = 'FERRY_SHARD_FDS';
import type { StackSnapshot, ThreadSnapshot } from './snapshot';

/** Master -> worker process. A `receiver` or `rearm` message carries one dup of the socket. */
export type ToWorker =
  /** `datagramDir`: the master's private directory for the groups' redispatch sockets (datagram/peer-path.ts). */
  | { type: 'init'; config: Config; group: number; generation: number; datagramDir: string }
  | { type: 'receiver'; id: string; thread: number }
  | { type: 'start' }
  | { type: 'rearm'; id: string; thread: number }
  /**
   * A generation of stacks in this running worker, from `config`: the `receiver` messages that
   * follow bring its sockets, `start` starts it beside the one that serves (a reload in place).
   */
  | { type: 'reconfigure'; config: Config; generation: number }
  /**
   * `handOver`: hand what can move over to the next generation before draining the rest.
   * `generation`: only that generation's stacks stop, handing over inside the threads to the newest other one.
   */
  | { type: 'stop'; handOver: boolean; generation?: number }
  /** `generation`: only that generation's stacks. */
  | { type: 'kill'; generation?: number }
  /** Operators' runtime settings of servers, their health and resolved addresses: all in force, also sent before `start`. */
  | ({ type: 'servers' } & ServerPush)
  /** The master CLI asks for every thread's counters; `ref` matches the answer. */
  | Snapshot
  /** The master's answer to a `stats` request: the page's data or the exposition. */
  | StatsAnswer
  /** The older generations' UDP flows have reached this one (or the wait is over): read the UDP receivers. */
  | { type: 'readDatagrams' }
  /** Every worker of this stopping generation is quiet (see master/datagram-gate.ts): send the flows on. */
  | { type: 'handOverFlows' }
  | HandOverPart;

/**
 * A session or a UDP flow leaving its generation for the next one. `id` is minted where it leaves
 * (`generation.group.thread.n`) and names it until it is adopted. Its sockets ride beside it: a
 * session's client socket, then its server socket when it has one; a flow's upstream socket.
 */
export type HandOver = SessionHandOver | FlowHandOver;

export interface SessionHandOver {
  id: string;
  /** The session's envelope (proto/envelope.ts: msgpackr, base64). */
  session: string;
}

/** The master adds `thread`: the thread of the new worker that adopts it (the owner of its key: datagram/owner.ts). */
export interface FlowHandOver {
  id: string;
  flow: FlowEnvelope;
  thread?: number;
}

/**
 * One socket of a hand-over on node:cluster's channel, which carries one handle per message: the
 * last part carries the hand-over itself (proto/handover-parts.ts splits and joins them).
 */
export interface HandOverPart {
  type: 'handOverPart';
  id: string;
  handOver?: HandOver;
}

/** Worker process -> master. */
export type FromWorker =
  | { type: 'ready'; threads: number }
  | { type: 'rearm'; id: string; thread: number }
  | { type: 'failed'; reason: string }
  /**
   * A session handed over arrived and belongs to one of this worker's threads now; for a flow, the
   * thread has taken it (or `closed` it: the new configuration no longer fits it).
   */
  | { type: 'adopted'; id: string; closed: boolean }
  /** Stopping with a hand-over, every thread has stopped reading UDP receivers, and sent on what it had read. */
  | { type: 'quiet' }
  /** Stopping with a hand-over, every thread has sent its UDP flows (the hand-overs before this message). */
  | { type: 'flowsOut' }
  /** `usage`: the worker process's own (the master shows it per worker). */
  | { type: 'snapshot'; ref: number; threads: ThreadSnapshot[]; usage: WorkerUsage }
  /** The last counters of stacks that drained (a generation stopped, in place or with the worker): the master folds them in. */
  | { type: 'counters'; threads: StackSnapshot[] }
  /** The `stats` service asks the master for the service's totals, which only the master has. */
  | StatsAsk
  /** Every thread's stack of `generation` (stopped in place) has drained, after handing `handedOver` sessions over. */
  | { type: 'retired'; generation: number; handedOver: number }
  | Observed
  | HandOverPart;

/**
 * Coordinator -> thread. Sockets ride beside the message (see ThreadLink): `rearm` comes with a fresh
 * dup of a receiver the thread closed when it was full, `adopt` with the sockets of a session or flow
 * from an older generation. `handedOver` answers a `handOver`: did the sockets leave?
 */
export type ToThread =
  /** A new generation's stack beside the running one: its receivers' sockets ride beside, in the order of `receivers`. */
  | { type: 'reconfigure'; config: Config; generation: number; receivers: string[]; servers: ServerPush }
  | { type: 'stop'; handOver: boolean; generation?: number }
  | { type: 'kill'; generation?: number }
  | { type: 'rearm'; id: string }
  | { type: 'adopt'; handOver: HandOver }
  | { type: 'readDatagrams' }
  /** Every thread of the stopping generation is quiet: the flows can go (see master/datagram-gate.ts). */
  | { type: 'handOverFlows' }
  | { type: 'handedOver'; id: string; ok: boolean }
  | ({ type: 'servers' } & ServerPush)
  | Snapshot
  | StatsAnswer
  /** Datagrams another group read for flows this thread owns: one batch (datagram/redispatch-packet.ts). */
  | { type: 'datagram'; packet: Uint8Array }
  /** A batch of `datagrams` datagrams this thread redispatched to another group could not be sent there. */
  | { type: 'undelivered'; frontend: number; datagrams: number };

/** Thread -> coordinator. `handOver` comes with the sockets of a session or flow leaving. */
export type FromThread =
  | { type: 'ready' }
  | { type: 'rearm'; id: string }
  | { type: 'failed'; reason: string }
  | { type: 'drained' }
  /** The thread's stack of `generation` has drained; a newer one serves on. */
  | { type: 'retired'; generation: number; handedOver: number }
  | { type: 'handOver'; handOver: HandOver }
  /** It no longer reads UDP receivers (stop with a hand-over); what it read before is on its way to the owners. */
  | { type: 'quiet' }
  /** Every flow it could move is on its way (stop with a hand-over). */
  | { type: 'flowsOut' }
  | { type: 'adopted'; id: string; closed: boolean }
  | { type: 'snapshot'; ref: number; data: ThreadSnapshot }
  /** A stack drained: its last counters. `last`: the thread's last stack (the worker exits after). */
  | { type: 'counters'; data: StackSnapshot; last: boolean }
  | StatsAsk
  /** A batch of `datagrams` datagrams for flows a thread of another group owns: the coordinator sends it to that group's. */
  | { type: 'redispatch'; group: number; frontend: number; datagrams: number; packet: Uint8Array }
  | Observed;

/**
 * Passive detection took a server DOWN in a thread: the master decides for every thread (thread ->
 * coordinator -> master).
 */
export interface Observed {
  type: 'observed';
  backend: string;
  server: string;
  reason: string;
}

/**
 * A socket a thread takes over (to listen on, or a connection to carry on): the handle node's IPC
 * layer made of a received fd (inline thread), or that fd's number (worker thread: handles cannot
 * cross a MessagePort, fd numbers can).
 */
export type SocketRef = object | { fd: number };

/** What the `stats` service serves: the Prometheus exposition, or the page's JSON. */
export type StatsWhat = 'metrics' | 'json';

/** Thread -> coordinator -> master; `ref` is unique in the thread, and the coordinator's own towards the master. */
export interface StatsAsk {
  type: 'stats';
  ref: number;
  what: StatsWhat;
}

/** Master -> coordinator -> thread: the body for the `stats` request `ref`. */
export interface StatsAnswer {
  type: 'statsAnswer';
  ref: number;
  body: string;
}

/** A worker process's resident memory and its main event loop's delay, as it last measured them. */
export interface WorkerUsage {
  rssBytes: number;
  /** The event loop's mean delay over the last second (ms). */
  lagMs: number;
}

/**
 * A request for every thread's counters (master -> worker -> threads). `counters`: the master's
 * poll, which needs no list of sessions (sorting them every second would cost with many).
 */
export interface Snapshot {
  type: 'snapshot';
  ref: number;
  counters?: boolean;
}
