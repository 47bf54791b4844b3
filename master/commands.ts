import type { Config } from '../src/config/types';
import type { Reply } from '../src/proto/control';
import type { ServerAdmin, ServerState } from '../src/proto/server-push';
import type { ThreadSnapshot } from '../src/proto/snapshot';
import { version } from '../src/lib/version';
import type { TrafficCounters } from '../src/lib/traffic';
import type { BoundReceiver } from './binder';
import type { Generation } from './generation';
import { CommandError, locate, type AdminChange, type CheckStat, type ServerStateRow } from './server-states';
import type { FrontendSnapshot } from '../src/proto/snapshot';
import { listenerStates, oldestSessions, sumStats, withChecks, type ServerStat, type Totals } from './stats';
import type { WorkerSlot } from './worker-slot';

/** What the master CLI reads of the running service and may ask of it. */
export interface ServiceView {
  readonly config: Config;
  readonly configFile: string | undefined;
  readonly startedAt: number;
  readonly reloads: number;
  readonly failedReloads: number;
  /** The serving generation first, then a reload's starting one, then the draining ones. */
  generations(): { generation: Generation; role: 'current' | 'starting' | 'draining' }[];
  /** `processes`: a new generation of worker processes, even where a reload in place would do. */
  reload(source: string, processes?: boolean): Promise<Reply>;
  /**
   * Applies an operator's server setting (`command`) to every worker, keeps it for the next
   * generations and saves it to the state file (`unsaved`: why it could not).
   */
  /** Resolves once every live worker thread has the setting. */
  administer(ref: string, change: AdminChange, command: string): Promise<{ admin: ServerAdmin; state: ServerState; unsaved?: string }>;
  /** What the serving generation's health checks found, per "backend/server". */
  checks(): Map<string, CheckStat>;
  /** Every configured server with the settings and health in force, and the state file (global.stateFile). */
  servers(): { file: string | undefined; rows: ServerStateRow[] };
  /** The service's counters since the master started (master/service-stats.ts). */
  stats(): StatsReader;
}

/** What the commands read of the master's statistics. */
export interface StatsReader {
  /** Asks every worker for its counters now. */
  poll(): Promise<void>;
  totals(): { counters: Totals; now: Totals };
  /** Sessions and requests per second over the last second, by "frontend/NAME", "backend/NAME", "server/BACKEND/NAME". */
  rates(): Map<string, { sessions: number; requests: number }>;
  metrics(): Promise<string>;
}

/** The service's counters since the master started, and the rates over the last second. */
interface Since {
  totals: Totals;
  rates: Map<string, { sessions: number; requests: number }>;
}

/** The workers a command reads: every live one, or the one picked with @N / @!PID. */
interface Scope {
  slots: WorkerSlot[];
}

interface Command {
  words: string[];
  args: string;
  help: string;
  /** Takes an @N / @!PID prefix: it reads workers rather than changing the service. */
  scoped: boolean;
  run(args: string[], scope: Scope): Reply | Promise<Reply>;
}

/** How many sessions `show sess` lists. */
const SHOWN_SESSIONS = 10;

/**
 * The master CLI's commands. Reading commands ask every worker for its threads' counters and sum
 * them; `@N` (the Nth worker of the serving generation, as `show proc` numbers them) or `@!PID` (any
 * worker) narrows them to one worker.
 */
export class Commands {
  private readonly table: Command[] = [
    { words: ['help'], args: '', help: 'this list', scoped: false, run: () => this.help() },
    { words: ['show', 'proc'], args: '', help: 'the master and every worker: generation, group, pid, uptime, restarts', scoped: false, run: () => this.showProc() },
    { words: ['show', 'info'], args: '', help: 'version, uptime, reloads, configuration, live sessions', scoped: true, run: (_, s) => this.showInfo(s) },
    { words: ['show', 'listeners'], args: '', help: 'every receiver: address, fd, bound or inherited, shards, and each thread\'s shard, state and accepted', scoped: true, run: (_, s) => this.showListeners(s) },
    { words: ['show', 'stat'], args: '', help: 'counters per frontend, backend and server, summed over the workers', scoped: true, run: (_, s) => this.showStat(s) },
    { words: ['show', 'threads'], args: '', help: 'every thread: the generations it runs, its live sockets and timers, its heap and its process\'s memory', scoped: true, run: (_, s) => this.showThreads(s) },
    { words: ['show', 'metrics'], args: '', help: 'the Prometheus exposition of the counters since the master started (as the stats service serves it)', scoped: false, run: () => this.showMetrics() },
    { words: ['show', 'sess'], args: '', help: `the number of live sessions and the ${SHOWN_SESSIONS} oldest`, scoped: true, run: (_, s) => this.showSess(s) },
    { words: ['reload', 'processes'], args: '', help: 'reload in new worker processes (to run a new ferry build), and wait for the outcome', scoped: false, run: () => this.view.reload('master socket', true) },
    { words: ['show', 'servers', 'state'], args: '', help: 'every server: state, operator setting, weight in force and configured, health; the state file', scoped: false, run: () => this.showServersState() },
    { words: ['reload'], args: '', help: 'reload the configuration and wait for the outcome', scoped: false, run: () => this.view.reload('master socket') },
    { words: ['disable', 'server'], args: 'BACKEND/SERVER', help: 'MAINT: the server is off, no new sessions (kept across reloads)', scoped: false, run: ([ref]) => this.administer(ref, { admin: 'maint' }, 'disable server') },
    { words: ['drain', 'server'], args: 'BACKEND/SERVER', help: 'DRAIN: no new sessions, open ones finish (kept across reloads)', scoped: false, run: ([ref]) => this.administer(ref, { admin: 'drain' }, 'drain server') },
    { words: ['enable', 'server'], args: 'BACKEND/SERVER', help: 'undo disable or drain server: UP, or what the checks say', scoped: false, run: ([ref]) => this.administer(ref, { admin: 'ready' }, 'enable server') },
    { words: ['set', 'weight'], args: 'BACKEND/SERVER WEIGHT', help: 'change a server weight: 0 to 256, or N% of its configured weight (kept across reloads)', scoped: false, run: ([ref, w]) => this.setWeight(ref, w) },
  ];

  constructor(private readonly view: ServiceView) {}

  async run(words: string[]): Promise<Reply> {
    const [first, ...rest] = words;
    const prefixed = first.startsWith('@');
    const line = prefixed ? rest : words;
    const command = this.table.find((c) => c.words.every((w, i) => line[i] === w));
    if (command === undefined) return failure(`unknown command "${clip(words.join(' '))}"; try "help"`);
    const args = line.slice(command.words.length);
    const expected = command.args === '' ? 0 : command.args.split(' ').length;
    if (args.length !== expected) return failure(`usage: ${usage(command)}`);
    try {
      if (prefixed && !command.scoped) throw new CommandError(`"${command.words.join(' ')}" applies to the whole service: send it without ${first}`);
      return await command.run(args, prefixed ? this.pick(first) : this.everyWorker());
    } catch (err) {
      if (err instanceof CommandError) return failure(err.message);
      throw err;
    }
  }

  private help(): Reply {
    const rows = this.table.map((c) => [usage(c), c.help]);
    return { ok: true, lines: [...table(rows), '', 'Prefix a show command with @N (worker N of "show proc") or @!PID to ask one worker.'] };
  }

  private showProc(): Reply {
    const now = Date.now();
    const v = this.view;
    const rows = [['#', 'pid', 'role', 'generation', 'group', 'state', 'uptime', 'restarts']];
    rows.push(['@0', String(process.pid), 'master', '-', '-', 'ready', uptime(now - v.startedAt), '-']);
    const workers = this.view.generations().flatMap(({ generation, role }) =>
      generation.slots.map((slot, i) => ({ at: role === 'current' ? `@${i + 1}` : `@!${slot.pid ?? '-'}`, pid: slot.pid ?? null, role, generation: generation.n, group: slot.group, state: slot.state, uptimeMs: now - slot.startedAt, restarts: slot.restarts })),
    );
    for (const w of workers) rows.push([w.at, String(w.pid ?? '-'), `worker (${w.role})`, String(w.generation), String(w.group), w.state, uptime(w.uptimeMs), String(w.restarts)]);
    const master = { pid: process.pid, uptimeMs: now - v.startedAt, reloads: v.reloads, failedReloads: v.failedReloads };
    return { ok: true, lines: [...table(rows), '', `reloads: ${v.reloads}, failed reloads: ${v.failedReloads}`], data: { master, workers } };
  }

  private async showInfo(scope: Scope): Promise<Reply> {
    const { threads, missing } = await snapshots(scope);
    const v = this.view;
    const g = v.config.global;
    const current = v.generations().find((x) => x.role === 'current')?.generation;
    const info = {
      version: version(),
      pid: process.pid,
      node: process.version,
      uptime: uptime(Date.now() - v.startedAt),
      config: v.configFile ?? '(embedded)',
      masterSocket: g.masterSocket,
      generation: current?.n ?? null,
      groups: g.groups,
      threads: g.threads,
      maxconn: g.maxconn,
      hardStopAfter: g.hardStopAfter,
      reloads: v.reloads,
      failedReloads: v.failedReloads,
      sessions: threads.reduce((n, t) => n + t.sessions, 0),
      workers: scope.slots.length,
    };
    return { ok: true, lines: [...table(Object.entries(info).map(([k, val]) => [`${k}:`, String(val)])), ...missing], data: info };
  }

  private async showListeners(scope: Scope): Promise<Reply> {
    const { threads, missing } = await snapshots(scope);
    const receivers = this.receivers();
    const shards = new Map(receivers.map((r) => [r.id, r.shards.length]));
    const states = listenerStates(threads, this.view.config.global, (id) => shards.get(id) ?? 1);
    const listeners = receivers.map((r) => {
      const each = states.get(r.id) ?? [];
      return {
        frontend: r.frontend,
        bind: r.bind.text,
        address: r.address,
        fd: r.handle.fd,
        shards: r.shards.length,
        origin: r.inherited ? 'inherited' : 'bound',
        accepted: each.reduce((n, t) => n + t.accepted, 0),
        threads: each,
      };
    });
    const rows = [['frontend', 'bind', 'address', 'fd', 'origin', 'shards', 'accepted', 'threads (group, thread, shard: state accepted)'], ...listeners.map((l) => [l.frontend, l.bind, l.address, String(l.fd), l.origin, String(l.shards), String(l.accepted), l.threads.map((t) => `g${t.group}t${t.thread}s${t.shard}:${t.state}=${t.accepted}`).join(' ')])];
    return { ok: true, lines: [...table(rows), ...missing], data: listeners };
  }

  private async showStat(scope: Scope): Promise<Reply> {
    const { threads, missing } = await snapshots(scope);
    const totals = withChecks(sumStats(threads), this.view.checks());
    const rows = [['type', 'name', 'state', 'weight', 'current', 'total', 'failures', 'address', 'check', 'maxconn', 'queue', 'qmax', 'queued', 'qtimeout']];
    for (const f of totals.frontends) rows.push(['frontend', f.name, '', '', String(f.current), String(f.total), '', '', '']);
    for (const b of totals.backends) {
      const q = b.queue;
      rows.push(['backend', b.name, '', '', String(b.current), String(b.total), '', '', '', '', String(q.current), String(q.max), String(q.total), String(q.timedOut)]);
      for (const s of b.servers) {
        const state = s.state + (s.backup ? ' (backup)' : '');
        rows.push(['server', `${b.name}/${s.name}`, state, weightOf(s), String(s.active), String(s.total), String(s.failures), s.address, checkOf(s), String(s.maxconn ?? '-'), '', '', String(s.fromQueue), '']);
      }
    }
    const since = await this.sinceStart(scope);
    const lines = [...table(rows), ...datagramTable(totals.frontends), ...tlsTable(totals.frontends), ...httpTable(totals), ...endsTable(totals.frontends), ...trafficTable(since), ...missing];
    const rates = since === undefined ? {} : Object.fromEntries(since.rates);
    return { ok: true, lines, data: { ...totals, ...(since !== undefined && { sinceStart: since.totals, rates }) } };
  }

  /** The whole service's counters since the master started, over every generation; none for one worker (@N). */
  private async sinceStart(scope: Scope): Promise<Since | undefined> {
    if (scope.slots.length !== this.everyWorker().slots.length) return undefined;
    const stats = this.view.stats();
    await stats.poll();
    return { totals: stats.totals().counters, rates: stats.rates() };
  }

  private async showMetrics(): Promise<Reply> {
    const stats = this.view.stats();
    await stats.poll();
    const text = await stats.metrics();
    return { ok: true, lines: text.trimEnd().split('\n'), data: { text } };
  }

  private async showSess(scope: Scope): Promise<Reply> {
    const { threads, missing } = await snapshots(scope);
    const count = threads.reduce((n, t) => n + t.sessions, 0);
    const oldest = oldestSessions(threads, SHOWN_SESSIONS);
    const now = Date.now();
    const rows = [['age', 'client', 'frontend', 'backend/server', 'generation', 'group', 'thread', 'handed over from']];
    for (const s of oldest) {
      rows.push([uptime(now - s.acceptedAt), s.client, s.frontend, `${s.backend}/${s.server}`, String(s.generation), String(s.group), String(s.thread), s.generations.join(',') || '-']);
    }
    const lines = [`${count} live session${count === 1 ? '' : 's'} over ${threads.length} thread${threads.length === 1 ? '' : 's'}`, ...(oldest.length > 0 ? table(rows) : []), ...missing];
    return { ok: true, lines, data: { count, oldest } };
  }

  private async showThreads(scope: Scope): Promise<Reply> {
    const { threads, missing } = await snapshots(scope);
    const data = threads.flatMap((t) => (t.holds === undefined ? [] : [{ group: t.group, thread: t.thread, generation: t.generation, sessions: t.sessions, ...t.holds }]));
    const rows = [['group', 'thread', 'generations', 'sessions', 'sockets', 'timers', 'other', 'heap', 'rss']];
    for (const t of data) {
      const { sockets, timers, other } = resourceKinds(t.resources);
      rows.push([String(t.group), String(t.thread), t.generations.join(','), String(t.sessions), String(sockets), String(timers), String(other), megabytes(t.heapUsed), megabytes(t.rss)]);
    }
    return { ok: true, lines: [...table(rows), ...missing], data };
  }

  private async administer(ref: string, change: AdminChange, command: string): Promise<Reply> {
    const { admin, state, unsaved } = await this.view.administer(ref, change, command);
    const line = `server ${admin.backend}/${admin.server}: ${state}, weight ${admin.weight}`;
    // The setting is in force: the reply says so, and that a restart would lose it.
    return { ok: true, lines: [unsaved === undefined ? line : `${line} (${unsaved}; it holds until the master stops)`], data: { ...admin, state, ...(unsaved !== undefined && { unsaved }) } };
  }

  /** An absolute weight, or "N%": that share of the configured weight, rounded, as HAProxy's `set weight`. */
  private setWeight(ref: string, text: string): Promise<Reply> {
    const percent = /^(\d+)%$/.exec(text);
    if (percent !== null) {
      const configured = locate(this.view.config, ref).server.weight;
      const weight = Math.round((configured * Number(percent[1])) / 100);
      if (weight > 256) throw new CommandError(`${text} of the configured weight ${configured} is ${weight}: a weight is at most 256`);
      return this.administer(ref, { weight }, `set weight ${text}`);
    }
    const weight = Number(text);
    if (!/^\d+$/.test(text) || weight > 256) throw new CommandError(`weight must be an integer from 0 to 256, or a percentage of the configured weight such as "50%"; found "${text}"`);
    return this.administer(ref, { weight }, 'set weight');
  }

  private showServersState(): Reply {
    const { file, rows } = this.view.servers();
    const head = file === undefined ? 'no state file (global.stateFile): these settings end with the master' : `state file: ${file}`;
    const lines = [['backend/server', 'address', 'state', 'admin', 'weight', 'configured', 'health']];
    for (const r of rows) lines.push([`${r.backend}/${r.server}`, r.address, r.state, r.admin, String(r.weight), String(r.configuredWeight), r.health ?? '-']);
    return { ok: true, lines: [head, ...(rows.length > 0 ? table(lines) : ['no servers'])], data: { file: file ?? null, servers: rows } };
  }

  private everyWorker(): Scope {
    return { slots: this.view.generations().flatMap((g) => g.generation.slots) };
  }

  private pick(at: string): Scope {
    const generations = this.view.generations();
    if (at === '@0' || at === '@master') throw new CommandError(`${at} is the master itself: send the command without it`);
    if (at.startsWith('@!')) {
      const pid = Number(at.slice(2));
      const slot = generations.flatMap((g) => g.generation.slots).find((s) => s.pid === pid);
      if (slot === undefined) throw new CommandError(`no worker has pid ${at.slice(2)}; see "show proc"`);
      return { slots: [slot] };
    }
    const n = Number(at.slice(1));
    const slots = generations.find((g) => g.role === 'current')?.generation.slots ?? [];
    if (!Number.isInteger(n) || n < 1 || n > slots.length) throw new CommandError(`no worker ${at}: the serving generation has @1 to @${slots.length}; see "show proc"`);
    return { slots: [slots[n - 1]] };
  }

  /** The receivers of every live generation, each once. */
  private receivers(): BoundReceiver[] {
    const seen = new Map<string, BoundReceiver>();
    for (const { generation } of this.view.generations()) for (const r of generation.receivers) if (!seen.has(r.id)) seen.set(r.id, r);
    return [...seen.values()];
  }
}

/** Every thread snapshot of the scope's workers, and a line for each worker that did not answer. */
async function snapshots(scope: Scope): Promise<{ threads: ThreadSnapshot[]; missing: string[] }> {
  const answers = await Promise.all(scope.slots.map((s) => s.snapshot()));
  const missing = scope.slots.filter((_, i) => answers[i] === undefined).map((s) => `(worker of group ${s.group}, pid ${s.pid ?? '-'}, did not answer: not ready or gone)`);
  return { threads: answers.flatMap((a) => a ?? []), missing };
}

/** The weight, and while slowstart ramps it up, the share of it in use. */
function weightOf(s: ServerStat): string {
  return s.effectiveWeight < s.weight ? `${s.effectiveWeight}/${s.weight}` : String(s.weight);
}

function checkOf(s: ServerStat): string {
  if (s.check === null) return '-';
  const last = s.check.last === null ? 'not yet' : s.check.last.result;
  return `${s.check.type}: ${last}, ${s.check.failed}/${s.check.checks} failed`;
}

/** libuv's handles by what an operator calls them: connections and listening sockets, timers, the rest (IPC, files…). */
function resourceKinds(resources: Record<string, number>): { sockets: number; timers: number; other: number } {
  const sum = { sockets: 0, timers: 0, other: 0 };
  for (const [kind, n] of Object.entries(resources)) {
    if (/^(TCP|UDP|Pipe)/.test(kind) && !kind.startsWith('PipeConnect')) sum.sockets += n;
    else if (kind === 'Timeout' || kind === 'Immediate') sum.timers += n;
    else sum.other += n;
  }
  return sum;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** Garbage sent to the socket is not worth echoing in full. */
function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function failure(line: string): Reply {
  return { ok: false, lines: [line] };
}

function usage(c: Command): string {
  return [...c.words, c.args].filter((w) => w !== '').join(' ');
}

/** Left-aligned columns, two spaces apart. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
}

function uptime(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d > 0 ? `${d}d` : ''}${d + h > 0 ? `${h}h` : ''}${d + h + m > 0 ? `${m}m` : ''}${s}s`;
}

/**
 * What the sessions and requests carried since the master started, over every generation (counted as
 * each ends): bytes, HTTP responses by status class, retries and the ends other than the normal one.
 */
function trafficTable(since: Since | undefined): string[] {
  if (since === undefined) return [];
  const rows = [['since start', 'name', 'sess/s', 'req/s', 'bytes in', 'bytes out', '1xx', '2xx', '3xx', '4xx', '5xx', 'no response', 'retries', 'errors']];
  const row = (type: string, name: string, t: TrafficCounters | undefined, errors: number): string[] => {
    const s = t?.statuses ?? [0, 0, 0, 0, 0, 0];
    const r = since.rates.get(`${type}/${name}`);
    const rate = (n: number | undefined): string => (n === undefined ? '-' : n.toFixed(1));
    return [type, name, rate(r?.sessions), rate(r?.requests), String(t?.bytesIn ?? 0), String(t?.bytesOut ?? 0), ...[s[1], s[2], s[3], s[4], s[5], s[0]].map(String), String(t?.retries ?? 0), String(errors)];
  };
  for (const f of since.totals.frontends) rows.push(row('frontend', f.name, f.traffic, Object.values(f.terminations ?? {}).reduce((n, x) => n + x, 0)));
  for (const b of since.totals.backends) {
    rows.push(row('backend', b.name, b.traffic, b.servers.reduce((n, s) => n + s.failures, 0)));
    for (const s of b.servers) rows.push(row('server', `${b.name}/${s.name}`, s.traffic, s.failures));
  }
  return ['', ...table(rows)];
}

/** TLS handshakes of frontends with TLS binds, below the main table; nothing without them. */
function tlsTable(frontends: readonly FrontendSnapshot[]): string[] {
  const tls = frontends.filter((f) => f.tls !== undefined);
  if (tls.length === 0) return [];
  return ['', ...table([['tls frontend', 'handshakes', 'failures'], ...tls.map((f) => [f.name, String(f.tls!.handshakes), String(f.tls!.failures)])])];
}

/** HTTP requests of frontends and backends, below the main table; nothing without HTTP traffic. */
function httpTable(totals: { frontends: readonly FrontendSnapshot[]; backends: readonly { name: string; requests?: number }[] }): string[] {
  const rows = [['http', 'name', 'requests']];
  for (const f of totals.frontends) if (f.requests !== undefined) rows.push(['frontend', f.name, String(f.requests)]);
  for (const b of totals.backends) if (b.requests !== undefined) rows.push(['backend', b.name, String(b.requests)]);
  return rows.length === 1 ? [] : ['', ...table(rows)];
}

/**
 * Per frontend, the connections closing now (answered and ended, waiting for their client to close)
 * and the ends other than the normal one by termination code; nothing while there are none.
 */
function endsTable(frontends: readonly FrontendSnapshot[]): string[] {
  const rows = [['ends frontend', 'closing', 'terminations']];
  for (const f of frontends) {
    if (f.closing === undefined && f.terminations === undefined) continue;
    const codes = Object.entries(f.terminations ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    rows.push([f.name, String(f.closing ?? 0), codes.map(([code, n]) => `${code} ${n}`).join(', ')]);
  }
  return rows.length === 1 ? [] : ['', ...table(rows)];
}

/** UDP frontends' flows and datagrams, below the main table; nothing without UDP frontends. */
function datagramTable(frontends: readonly FrontendSnapshot[]): string[] {
  const udp = frontends.filter((f) => f.datagrams !== undefined);
  if (udp.length === 0) return [];
  const rows = [['udp frontend', 'flows', 'flows total', 'datagrams in', 'datagrams out', 'dropped', 'rate limited', 'malformed', 'redispatched', 'from threads', 'redispatch dropped']];
  for (const { name, datagrams: d } of udp) {
    rows.push([name, ...[d!.flows, d!.flowsTotal, d!.in, d!.out, d!.dropped, d!.rateLimited, d!.malformed, d!.redispatched, d!.fromThreads, d!.redispatchDropped].map(String)]);
  }
  return ['', ...table(rows)];
}
