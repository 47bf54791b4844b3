// Sums the threads' snapshots into what the master CLI shows for the whole service (or one worker).
import type { BackendSnapshot, FrontendSnapshot, ServerSnapshot, SessionSnapshot, StackSnapshot } from '../src/proto/snapshot';
import { addDatagrams, noDatagrams } from '../src/datagram/counters';
import type { CheckStat } from './server-states';
import type { GlobalConfig } from '../src/config/types';
import type { ListenerState } from '../src/proto/snapshot';
import { shardOf } from '../src/config/shards';
import type { Termination } from '../src/proto/termination';
import { addTraffic } from '../src/lib/traffic';

export interface Totals {
  frontends: FrontendSnapshot[];
  backends: BackendSnapshot[];
}

/** A server as `show stat` shows it: the threads' sums, and the master's checks (null: none). */
export type ServerStat = ServerSnapshot & { check: CheckStat | null };

export interface StatTotals {
  frontends: FrontendSnapshot[];
  backends: (Omit<BackendSnapshot, 'servers'> & { servers: ServerStat[] })[];
}

export type LocatedSession = SessionSnapshot & { group: number; thread: number; generation: number };

export function sumStats(threads: readonly StackSnapshot[]): Totals {
  const frontends = new Map<string, FrontendSnapshot>();
  const backends = new Map<string, BackendSnapshot>();
  for (const t of threads) {
    for (const f of t.frontends) {
      const sum = frontends.get(f.name) ?? { name: f.name, current: 0, total: 0 };
      frontends.set(f.name, { name: f.name, current: sum.current + f.current, total: sum.total + f.total, ...datagramsOf(sum, f, t), ...tlsOf(sum, f), ...requestsOf(sum, f), ...endsOf(sum, f), ...trafficOf(sum, f) });
    }
    for (const b of t.backends) backends.set(b.name, addBackend(backends.get(b.name), b));
  }
  return { frontends: [...frontends.values()], backends: [...backends.values()] };
}

/** A UDP frontend's sums, and each thread's counters beside them. */
function datagramsOf(sum: FrontendSnapshot, f: FrontendSnapshot, t: StackSnapshot): Pick<FrontendSnapshot, 'datagrams' | 'threads'> {
  if (f.datagrams === undefined) return sum.datagrams === undefined ? {} : { datagrams: sum.datagrams, threads: sum.threads };
  const datagrams = { ...(sum.datagrams ?? noDatagrams()) };
  addDatagrams(datagrams, f.datagrams);
  const threads = [...(sum.threads ?? []), { generation: t.generation, group: t.group, thread: t.thread, ...f.datagrams }];
  return { datagrams, threads };
}

function tlsOf(sum: FrontendSnapshot, f: FrontendSnapshot): Pick<FrontendSnapshot, 'tls'> {
  if (f.tls === undefined) return sum.tls === undefined ? {} : { tls: sum.tls };
  return { tls: { handshakes: (sum.tls?.handshakes ?? 0) + f.tls.handshakes, failures: (sum.tls?.failures ?? 0) + f.tls.failures } };
}

/** Closing connections and termination codes add up where any thread has some. */
function endsOf(sum: FrontendSnapshot, f: FrontendSnapshot): Pick<FrontendSnapshot, 'closing' | 'terminations'> {
  const closing = (sum.closing ?? 0) + (f.closing ?? 0);
  let terminations = sum.terminations;
  if (f.terminations !== undefined) {
    terminations = { ...terminations };
    for (const [code, n] of Object.entries(f.terminations) as [Termination, number][]) terminations[code] = (terminations[code] ?? 0) + n;
  }
  return { ...(closing > 0 && { closing }), ...(terminations !== undefined && { terminations }) };
}

/** Bytes, status classes and times add up where any thread has them. */
function trafficOf(sum: Pick<FrontendSnapshot, 'traffic'>, x: Pick<FrontendSnapshot, 'traffic'>): Pick<FrontendSnapshot, 'traffic'> {
  const traffic = addTraffic(sum.traffic, x.traffic);
  return traffic === undefined ? {} : { traffic };
}

/** HTTP request counts add up where any thread has one. */
function requestsOf(sum: { requests?: number }, x: { requests?: number }): { requests?: number } {
  return sum.requests === undefined && x.requests === undefined ? {} : { requests: (sum.requests ?? 0) + (x.requests ?? 0) };
}

/** What the master's checks found, beside each server's counters. */
export function withChecks(totals: Totals, checks: ReadonlyMap<string, CheckStat>): StatTotals {
  return {
    frontends: totals.frontends,
    backends: totals.backends.map((b) => ({ ...b, servers: b.servers.map((s) => ({ ...s, check: checks.get(`${b.name}/${s.name}`) ?? null })) })),
  };
}

/**
 * Settings (state, weights, maxconn) are the same in every thread, but for a thread whose passive detection
 * has just taken a server DOWN before the master said so: the first thread's are kept.
 */
function addBackend(sum: BackendSnapshot | undefined, b: BackendSnapshot): BackendSnapshot {
  if (sum === undefined) return { ...b, queue: { ...b.queue }, servers: b.servers.map((s) => ({ ...s })) };
  Object.assign(sum, requestsOf(sum, b), trafficOf(sum, b));
  if (b.adopted !== undefined) sum.adopted = (sum.adopted ?? 0) + b.adopted;
  sum.current += b.current;
  sum.total += b.total;
  sum.queue.current += b.queue.current;
  sum.queue.max += b.queue.max;
  sum.queue.total += b.queue.total;
  sum.queue.timedOut += b.queue.timedOut;
  for (const s of b.servers) {
    const into = sum.servers.find((x) => x.name === s.name);
    if (into === undefined) {
      sum.servers.push({ ...s });
      continue;
    }
    into.active += s.active;
    into.total += s.total;
    into.failures += s.failures;
    into.fromQueue += s.fromQueue;
    Object.assign(into, trafficOf(into, s));
  }
  return sum;
}

/** The oldest `limit` sessions over every thread, oldest first, each with where it runs. */
export function oldestSessions(threads: readonly StackSnapshot[], limit: number): LocatedSession[] {
  const all = threads.flatMap((t) => t.oldest.map((s) => ({ ...s, group: t.group, thread: t.thread, generation: s.generation ?? t.generation })));
  return all.sort((a, b) => a.acceptedAt - b.acceptedAt).slice(0, limit);
}

/** Per receiver id: each thread's listener state and the connections accepted over all threads. */
/** One thread's part of a receiver, for `show listeners`. */
export interface ThreadListener {
  group: number;
  thread: number;
  /** The shard (SO_REUSEPORT socket) the thread accepts on; 0 when the bind has one socket. */
  shard: number;
  state: ListenerState;
  accepted: number;
}

/** Each receiver's threads, by receiver id; `shardsOf` says how many shards a receiver has. */
export function listenerStates(threads: readonly StackSnapshot[], global: Pick<GlobalConfig, 'groups' | 'threads'>, shardsOf: (id: string) => number): Map<string, ThreadListener[]> {
  const byId = new Map<string, ThreadListener[]>();
  for (const t of threads) {
    for (const l of t.listeners) {
      const shard = shardOf(shardsOf(l.id), global.groups, global.threads, t.group, t.thread);
      byId.set(l.id, [...(byId.get(l.id) ?? []), { group: t.group, thread: t.thread, shard, state: l.state, accepted: l.accepted }]);
    }
  }
  return byId;
}
