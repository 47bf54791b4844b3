// What one thread reports of itself to the master CLI: counters and states, plain data that crosses
// a MessagePort and the cluster IPC channel. The master sums them over threads and workers.
// It imports only proto/: listener/, datagram/ and backend/ fill these in, master/ reads them.
import type { AdminState, ServerState } from './server-push';
import type { Termination } from './termination';
import type { TrafficCounters } from '../lib/traffic';

/**
 * ready: accepting. full: the frontend reached its maxconn. limited: the thread reached global.maxconn.
 * paused: the thread is stopping. In every state but ready this thread holds no dup of the socket, so
 * new connections wait in the kernel's accept queue (or go to another thread); none is refused.
 */
export type ListenerState = 'ready' | 'full' | 'limited' | 'paused';

export interface ListenerSnapshot {
  id: string;
  state: ListenerState;
  /** Connections this thread accepted on the receiver. */
  accepted: number;
}

export interface FrontendSnapshot {
  name: string;
  /** Sessions, or for a UDP frontend flows. */
  current: number;
  total: number;
  /** UDP frontends only: this thread's counters, or in the master's sums every thread's. */
  datagrams?: DatagramCounters;
  /** UDP frontends in the master's sums only: each thread's counters. */
  threads?: ThreadDatagrams[];
  /** Frontends with TLS binds only. */
  tls?: TlsCounters;
  /** HTTP frontends only: requests read (those refused included). */
  requests?: number;
  /** Connections ferry has answered and ended that wait for their client to close (src/conn/closing.ts); absent: none. */
  closing?: number;
  /** Sessions, requests and connections that did not end normally, by termination code; absent: none. */
  terminations?: Partial<Record<Termination, number>>;
  /** TCP and HTTP frontends: what the sessions and requests that ended carried. */
  traffic?: TrafficCounters;
}

/** A UDP frontend's counters in one thread; the master sums them over threads for `show stat`. */
export interface DatagramCounters {
  /** Flows live now, and created since start: those this thread owns (with flowKey "none", one per datagram). */
  flows: number;
  flowsTotal: number;
  /** Datagrams this thread read from clients (whoever owns their flow), and replies it sent back. */
  in: number;
  out: number;
  /** Datagrams dropped: new flows past maxFlows, no usable server, or an upstream not ready in time. */
  dropped: number;
  /** Datagrams dropped because they would have started a flow past maxFlowRate. */
  rateLimited: number;
  /** Datagrams dropped because no flow key could be read from them (flowKey "quic-dcid": not QUIC). */
  malformed: number;
  /** Datagrams read here and sent to the thread that owns their flow. */
  redispatched: number;
  /** Datagrams another thread read and sent here, to a flow this thread owns. */
  fromThreads: number;
  /** Redispatched datagrams lost on the way: the owner's group gone or restarting, a malformed packet, a stopped handler. */
  redispatchDropped: number;
}

export interface TlsCounters {
  /** Handshakes completed. */
  handshakes: number;
  /** Handshakes that failed: bad client bytes, no common protocol, a timeout, a close. */
  failures: number;
}

/** One thread's counters of a UDP frontend, where `show stat` breaks them down. */
export type ThreadDatagrams = DatagramCounters & { generation: number; group: number; thread: number };

export interface ServerSnapshot {
  name: string;
  address: string;
  active: number;
  total: number;
  /** Connection attempts that failed (refused, reset or timed out). */
  failures: number;
  state: ServerState;
  admin: AdminState;
  backup: boolean;
  /** The configured weight, or the operator's. */
  weight: number;
  /** The weight balancing uses now: below `weight` while slowstart ramps it up. */
  effectiveWeight: number;
  /** The configured maxconn, over the whole service (each thread enforces its share); null: none. */
  maxconn: number | null;
  /** Sessions that got this server after waiting in the backend queue. */
  fromQueue: number;
  traffic?: TrafficCounters;
}

/** A backend's queue of sessions waiting for a server slot. */
export interface QueueSnapshot {
  /** Waiting now. */
  current: number;
  /** The longest it has been (summed over threads: each thread has its own queue). */
  max: number;
  /** Sessions that had to wait. */
  total: number;
  /** Sessions that waited timeout.queue in vain and were closed (sQ). */
  timedOut: number;
}

export interface BackendSnapshot {
  name: string;
  current: number;
  total: number;
  queue: QueueSnapshot;
  servers: ServerSnapshot[];
  /** HTTP requests sent to the backend; absent while there were none. */
  requests?: number;
  /** Of `total`, the sessions handed over from an older generation (counted there already); absent: none. */
  adopted?: number;
  traffic?: TrafficCounters;
}

export interface SessionSnapshot {
  acceptedAt: number;
  client: string;
  frontend: string;
  backend: string;
  server: string;
  /** Generations it went through before this one: a session handed over. */
  generations: number[];
  /** The generation it runs in, where it is not its thread's serving one (an older stack kept after a reload in place). */
  generation?: number;
}

export interface ThreadSnapshot {
  group: number;
  thread: number;
  generation: number;
  listeners: ListenerSnapshot[];
  frontends: FrontendSnapshot[];
  backends: BackendSnapshot[];
  sessions: number;
  /** The oldest sessions of this thread, oldest first, at most OLDEST_SESSIONS. */
  oldest: SessionSnapshot[];
  /** What the thread holds: its stacks and what its process and event loop keep alive; absent from the master's counters poll. */
  holds?: ThreadHolds;
  /**
   * The counters of the thread's older stacks (a reload in place: they finish their sessions), each
   * on its own, so that the master adds what they still count; absent: none.
   */
  older?: StackSnapshot[];
}

/**
 * What a thread holds, for `show threads`: after a reload in place an older generation's stack and
 * everything it had must go once its last session has, and these say whether they did.
 */
export interface ThreadHolds {
  /** The generations whose stacks the thread runs: the serving one, and older ones that still finish sessions. */
  generations: number[];
  /** Its event loop's live resources by kind (process.getActiveResourcesInfo: sockets, servers, timers…). */
  resources: Record<string, number>;
  /** Its JavaScript heap in use and reserved, and its process's resident set, in bytes. */
  heapUsed: number;
  heapTotal: number;
  rss: number;
}

/** One stack's part of its thread's snapshot (workers/thread-snapshot.ts): all but what the thread holds. */
export type StackSnapshot = Omit<ThreadSnapshot, 'holds'>;

/** How many of its oldest sessions a thread reports: enough for `show sess`, bounded for big loads. */
export const OLDEST_SESSIONS = 20;
