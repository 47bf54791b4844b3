import { Registry, type Metric } from 'prom-client';
import type { BackendSnapshot, FrontendSnapshot, ServerSnapshot } from '../src/proto/snapshot';
import { TIME_BUCKETS_MS, type TimeCounts, type TrafficCounters } from '../src/lib/traffic';
import type { ServerStateRow } from './server-states';
import type { Totals } from './stats';
import type { WorkerUsage } from '../src/proto/ipc';

type Labels = Record<string, string>;
type Kind = 'counter' | 'gauge' | 'histogram';

/** What a scrape shows: the tally's counters and live gauges, the master's own numbers. */
export interface ScrapeInput {
  counters: Totals;
  now: Totals;
  servers: readonly (ServerStateRow & { sinceChangeS: number; checks: { ok: number; failed: number } | undefined })[];
  process: ProcessNumbers;
  workers: readonly { generation: number; group: number; pid: number; usage: WorkerUsage }[];
}

export interface ProcessNumbers {
  generation: number;
  startedAtS: number;
  reloads: number;
  failedReloads: number;
  /** 0: no reload yet. */
  lastReloadS: number;
  lastReloadOk: boolean;
  handedOver: { session: number; flow: number };
  hardStops: number;
  workerRestarts: number;
  openFds: number;
}

const STATUS_CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];
const SERVER_STATES = ['UP', 'DOWN', 'DRAIN', 'MAINT'] as const;

/**
 * One metric family, in the shape prom-client's registry writes out (`get()`), so that prom-client
 * writes the format (HELP, TYPE, label escaping, +Inf) for values the master already summed: its
 * own Counter and Histogram only count observations made in this process.
 */
class Family {
  readonly values: { value: number; labels: Labels; metricName?: string }[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: Kind,
  ) {}

  add(labels: Labels, value: number, suffix = ''): void {
    this.values.push({ value, labels, ...(suffix !== '' && { metricName: this.name + suffix }) });
  }

  /** Buckets as Prometheus has them: cumulative, with `le` in seconds. */
  times(labels: Labels, t: TimeCounts): void {
    let sum = 0;
    t.buckets.forEach((n, i) => {
      sum += n;
      this.add({ ...labels, le: i < TIME_BUCKETS_MS.length ? String(TIME_BUCKETS_MS[i] / 1000) : '+Inf' }, sum, '_bucket');
    });
    this.add(labels, t.sumMs / 1000, '_sum');
    this.add(labels, t.count, '_count');
  }

  get(): { name: string; help: string; type: Kind; values: Family['values']; aggregator: 'sum' } {
    return { name: this.name, help: this.help, type: this.type, values: this.values, aggregator: 'sum' };
  }
}

/** The Prometheus text exposition of a scrape. */
export function exposition(input: ScrapeInput): Promise<string> {
  const families = new Map<string, Family>();
  const family = (name: string, type: Kind, help: string): Family => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = new Family(`ferry_${name}`, help, type)));
    return f;
  };
  processFamilies(family, input);
  const killed = input.counters.frontends.reduce((n, f) => n + Object.entries(f.terminations ?? {}).reduce((k, [code, x]) => k + (code.startsWith('K') ? x : 0), 0), 0);
  family('hard_stop_closes_total', 'counter', 'Sessions and requests closed by a hard stop (termination codes K*).').add({}, killed);
  for (const f of input.counters.frontends) frontendFamilies(family, f);
  for (const f of input.now.frontends) family('frontend_sessions_current', 'gauge', 'Sessions (UDP: flows) open now.').add({ frontend: f.name }, f.current);
  for (const b of input.counters.backends) backendFamilies(family, b);
  for (const b of input.now.backends) {
    family('backend_sessions_current', 'gauge', 'Sessions on the backend now.').add({ backend: b.name }, b.current);
    family('backend_queue_current', 'gauge', 'Sessions waiting in the backend queue now.').add({ backend: b.name }, b.queue.current);
    family('backend_queue_max', 'gauge', "The longest each live thread's backend queue has been, summed.").add({ backend: b.name }, b.queue.max);
    for (const s of b.servers) family('server_sessions_current', 'gauge', 'Sessions holding a slot on the server now.').add({ backend: b.name, server: s.name }, s.active);
  }
  for (const s of input.servers) serverStateFamilies(family, s);
  const registry = new Registry();
  for (const f of families.values()) registry.registerMetric(f as unknown as Metric);
  return registry.metrics();
}

type Maker = (name: string, type: Kind, help: string) => Family;

function processFamilies(family: Maker, p: ScrapeInput): void {
  const n = p.process;
  family('generation', 'gauge', 'The generation that serves.').add({}, n.generation);
  family('start_time_seconds', 'gauge', 'When the master started (Unix time).').add({}, n.startedAtS);
  family('reloads_total', 'counter', 'Reloads done.').add({}, n.reloads);
  family('reloads_failed_total', 'counter', 'Reloads refused (the running generation went on).').add({}, n.failedReloads);
  family('last_reload_time_seconds', 'gauge', 'When the last reload ended (Unix time); 0: none yet.').add({}, n.lastReloadS);
  family('last_reload_success', 'gauge', '1 if the last reload succeeded (or none was tried), else 0.').add({}, n.lastReloadOk ? 1 : 0);
  const handed = family('handed_over_total', 'counter', 'Sessions and UDP flows handed over to a newer generation on reloads.');
  handed.add({ kind: 'session' }, n.handedOver.session);
  handed.add({ kind: 'flow' }, n.handedOver.flow);
  family('hard_stops_total', 'counter', 'Old generations whose last sessions were closed before they ended (hardStopAfter, maxReloads).').add({}, n.hardStops);
  family('worker_restarts_total', 'counter', 'Workers started again after dying.').add({}, n.workerRestarts);
  family('master_open_fds', 'gauge', 'File descriptors the master holds open.').add({}, n.openFds);
  for (const w of p.workers) {
    const labels = { generation: String(w.generation), group: String(w.group), pid: String(w.pid) };
    family('worker_resident_memory_bytes', 'gauge', "A worker process's resident memory.").add(labels, w.usage.rssBytes);
    family('worker_event_loop_lag_seconds', 'gauge', "A worker process's main event loop mean delay over the last second.").add(labels, w.usage.lagMs / 1000);
  }
}

function frontendFamilies(family: Maker, f: FrontendSnapshot): void {
  const labels = { frontend: f.name };
  if (f.datagrams === undefined) family('frontend_sessions_total', 'counter', 'Sessions accepted (handed-over ones count where they began).').add(labels, f.total);
  if (f.requests !== undefined) family('frontend_http_requests_total', 'counter', 'HTTP requests read, refused ones included.').add(labels, f.requests);
  for (const [code, n] of Object.entries(f.terminations ?? {})) family('frontend_terminations_total', 'counter', 'Sessions and requests that did not end normally, by termination code (see README, Logs).').add({ ...labels, termination: code }, n);
  if (f.tls !== undefined) {
    family('frontend_tls_handshakes_total', 'counter', 'TLS handshakes completed.').add(labels, f.tls.handshakes);
    family('frontend_tls_handshake_failures_total', 'counter', 'TLS handshakes that failed.').add(labels, f.tls.failures);
  }
  if (f.traffic !== undefined) trafficFamilies(family, 'frontend', labels, f.traffic);
  const d = f.datagrams;
  if (d === undefined) return;
  family('udp_flows_total', 'counter', 'UDP flows created.').add(labels, d.flowsTotal);
  const datagrams = family('udp_datagrams_total', 'counter', 'UDP datagrams, by what became of them.');
  const fates: [string, number][] = [['in', d.in], ['out', d.out], ['dropped', d.dropped], ['rate_limited', d.rateLimited], ['malformed', d.malformed], ['redispatched', d.redispatched], ['redispatch_dropped', d.redispatchDropped]];
  for (const [fate, n] of fates) datagrams.add({ ...labels, fate }, n);
}

function backendFamilies(family: Maker, b: BackendSnapshot): void {
  const labels = { backend: b.name };
  family('backend_sessions_total', 'counter', 'Sessions sent to the backend (a session handed over counts once).').add(labels, sessionsOf(b));
  if (b.requests !== undefined) family('backend_http_requests_total', 'counter', 'HTTP requests sent to the backend.').add(labels, b.requests);
  family('backend_queued_total', 'counter', 'Sessions that waited in the backend queue.').add(labels, b.queue.total);
  family('backend_queue_timeouts_total', 'counter', 'Sessions that waited timeout.queue in vain.').add(labels, b.queue.timedOut);
  if (b.traffic !== undefined) trafficFamilies(family, 'backend', labels, b.traffic);
  for (const s of b.servers) serverFamilies(family, b.name, s);
}

function serverFamilies(family: Maker, backend: string, s: ServerSnapshot): void {
  const labels = { backend, server: s.name };
  family('server_sessions_total', 'counter', 'Sessions and HTTP requests sent to the server.').add(labels, s.total);
  family('server_connection_errors_total', 'counter', 'Connection attempts to the server that failed.').add(labels, s.failures);
  family('server_from_queue_total', 'counter', 'Sessions that got the server after waiting in the queue.').add(labels, s.fromQueue);
  if (s.traffic !== undefined) trafficFamilies(family, 'server', labels, s.traffic);
}

/** Bytes, retries, responses by status class and the time histograms, the same for the three levels. */
function trafficFamilies(family: Maker, level: string, labels: Labels, t: TrafficCounters): void {
  family(`${level}_bytes_in_total`, 'counter', 'Bytes received from clients, counted when the session or request ends.').add(labels, t.bytesIn);
  family(`${level}_bytes_out_total`, 'counter', 'Bytes sent to clients, counted when the session or request ends.').add(labels, t.bytesOut);
  family(`${level}_retries_total`, 'counter', 'Connection attempts made again after a failed one.').add(labels, t.retries);
  if (level === 'backend') family('backend_redispatches_total', 'counter', 'Retries sent to another server than the one that failed (redispatch).').add(labels, t.redispatches);
  const responses = family(`${level}_http_responses_total`, 'counter', 'HTTP requests ended, by the class of the status sent ("none": no response).');
  t.statuses.forEach((n, i) => responses.add({ ...labels, code: STATUS_CLASSES[i] }, n));
  family(`${level}_http_response_time_seconds`, 'histogram', 'HTTP: from the request sent to the response head.').times(labels, t.response);
  for (const [code, n] of Object.entries(t.ends)) family(`${level}_terminations_total`, 'counter', 'Sessions and requests that did not end normally, by termination code (see README, Logs).').add({ ...labels, termination: code }, n);
  family(`${level}_http_total_time_seconds`, 'histogram', 'HTTP: from the accept (or the previous request on the connection) to the end of the request.').times(labels, t.total);
}

function serverStateFamilies(family: Maker, s: ScrapeInput['servers'][number]): void {
  const labels = { backend: s.backend, server: s.server };
  const state = family('server_state', 'gauge', 'The server state: 1 for the one it is in (UP, DOWN, DRAIN, MAINT).');
  for (const name of SERVER_STATES) state.add({ ...labels, state: name }, s.state === name ? 1 : 0);
  family('server_state_change_seconds', 'gauge', 'Seconds since the master saw the server state change (or since it started).').add(labels, s.sinceChangeS);
  family('server_weight', 'gauge', 'The weight in force.').add(labels, s.weight);
  if (s.health !== null) family('server_check_up', 'gauge', 'What the health checks say: 1 UP, 0 DOWN.').add(labels, s.health === 'UP' ? 1 : 0);
  if (s.checks !== undefined) {
    const checks = family('server_checks_total', 'counter', 'Health checks the master ran on the server since it started, by result (ok, failed).');
    checks.add({ ...labels, result: 'ok' }, s.checks.ok);
    checks.add({ ...labels, result: 'failed' }, s.checks.failed);
  }
}

/** A backend's sessions over every generation: one handed over was counted where it began. */
export function sessionsOf(b: BackendSnapshot): number {
  return b.total - (b.adopted ?? 0);
}
