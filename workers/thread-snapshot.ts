import type { Backend } from '../src/backend/backend';
import type { DatagramHandlers } from '../src/datagram/handlers';
import type { Acceptor } from '../src/listener/acceptor';
import type { Frontend } from '../src/listener/frontend';
import type { Listener } from '../src/listener/listener';
import { OLDEST_SESSIONS, type BackendSnapshot, type FrontendSnapshot, type StackSnapshot } from '../src/proto/snapshot';
import type { ServiceContext } from '../src/services';

/** What one thread runs, as the master CLI's `show` commands see it. */
export interface ThreadParts {
  id: ServiceContext;
  listeners: Iterable<Listener>;
  frontends: readonly Frontend[];
  backends: Iterable<Backend>;
  acceptor: Acceptor;
  datagrams: DatagramHandlers;
}

/** This thread's counters and its oldest sessions (none with `counters`: the master's poll), for the master CLI. */
export function threadSnapshot(t: ThreadParts, counters = false): StackSnapshot {
  const now = Date.now();
  const oldest = counters ? [] : [...t.acceptor.sessions].map((s) => s.describe());
  oldest.sort((a, b) => a.acceptedAt - b.acceptedAt);
  return {
    ...t.id,
    listeners: [...t.listeners].map((l) => ({ id: l.id, state: l.state, accepted: l.receiver.accepted })),
    frontends: t.frontends.map((f) => frontendSnapshot(f, t.datagrams)),
    backends: [...t.backends].map((b) => backendSnapshot(b, now)),
    sessions: t.acceptor.count,
    oldest: oldest.slice(0, OLDEST_SESSIONS),
  };
}

function backendSnapshot(b: Backend, now: number): BackendSnapshot {
  b.ramp(now);
  return {
    name: b.name,
    current: b.current,
    total: b.total,
    queue: { current: b.queue.length, max: b.queue.max, total: b.queue.total, timedOut: b.queue.timedOut },
    ...(b.requests > 0 && { requests: b.requests }),
    ...(b.adopted > 0 && { adopted: b.adopted }),
    traffic: b.traffic.counters(),
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
      traffic: s.traffic.counters(),
    })),
  };
}

/** A UDP frontend counts flows where a TCP one counts sessions. */
function frontendSnapshot(f: Frontend, datagrams: DatagramHandlers): FrontendSnapshot {
  const handler = datagrams.get(f.name);
  if (handler === undefined) return { name: f.name, current: f.sessions, total: f.accepted, ...(f.tls !== undefined && { tls: { ...f.tls } }), ...(f.config.mode === 'http' && { requests: f.requests }), ...endsOf(f), traffic: f.traffic.counters() };
  const c = handler.counters;
  return { name: f.name, current: c.flows, total: c.flowsTotal, datagrams: { ...c } };
}

/** Closing connections and ends other than the normal one, where a frontend has any. */
function endsOf(f: Frontend): Pick<FrontendSnapshot, 'closing' | 'terminations'> {
  const some = Object.keys(f.terminations).length > 0;
  return { ...(f.closing > 0 && { closing: f.closing }), ...(some && { terminations: { ...f.terminations } }) };
}
