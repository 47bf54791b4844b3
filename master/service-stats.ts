import { readdirSync } from 'node:fs';
import type { StackSnapshot } from '../src/proto/snapshot';
import type { StatsWhat } from '../src/proto/ipc';
import type { ServiceView } from './commands';
import { exposition, type ProcessNumbers, type ScrapeInput } from './exposition';
import type { ServerStateRow } from './server-states';
import type { Totals } from './stats';
import { backendRows, frontendRows, type StatsJson } from './stats-json';
import { Tally } from './tally';
import type { WorkerSlot } from './worker-slot';

/** How often the master asks every worker for its counters: a scrape is at most this stale. */
export const POLL_MS = 1_000;
/** How many reload moments the page's chart gets (it shows the last minutes). */
const RELOAD_TIMES = 50;

/** What the master counts itself, beside the workers' counters. */
export interface MasterCounts {
  lastReloadAt: number;
  lastReloadOk: boolean;
  reloadTimes: number[];
  handedOver: { session: number; flow: number };
  hardStops: number;
  workerRestarts: number;
  /** Health checks of the serving generation by "backend/server": they run in the master, so it counts them for its life. */
  checks: Map<string, CheckCounts>;
}

export interface CheckCounts {
  ok: number;
  failed: number;
}

/**
 * The service's statistics as the master keeps them: the workers' counters (polled every second
 * and folded in as stacks leave, see Tally) and the master's own, for the `stats` service, `show
 * stat` and `show metrics`.
 */
export class ServiceStats {
  readonly tally = new Tally();
  readonly counts: MasterCounts = { lastReloadAt: 0, lastReloadOk: true, reloadTimes: [], handedOver: { session: 0, flow: 0 }, hardStops: 0, workerRestarts: 0, checks: new Map() };
  private timer: NodeJS.Timeout | undefined;
  /** The last exposition, kept while the tally has not changed and for at most a poll's time: many scrapers cost one. */
  private exposed: { version: number; at: number; text: Promise<string> } | undefined;
  /** The totals at the last two timed polls, for the rates. */
  private recent: { at: number; counters: Totals }[] = [];
  /** When the master last saw each server's state change, and the state it saw. */
  private readonly changes = new Map<string, { state: string; at: number }>();

  constructor(private readonly view: ServiceView) {}

  start(): void {
    this.timer = setInterval(() => void this.poll().then(() => this.remember()), POLL_MS);
    // The poll never keeps the master alive on its own.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Every live worker's counters, now; resolves once all have answered (or given up). */
  async poll(): Promise<void> {
    const slots = this.view.generations().flatMap((g) => g.generation.slots);
    await Promise.all(slots.map((slot) => this.ask(slot)));
  }

  private remember(): void {
    this.recent = [...this.recent.slice(-1), { at: Date.now(), counters: this.tally.counters() }];
  }

  /**
   * Sessions and HTTP requests per second between the last two timed polls, by "frontend/NAME",
   * "backend/NAME" and "server/BACKEND/NAME"; empty until there have been two.
   */
  rates(): Map<string, { sessions: number; requests: number }> {
    const rates = new Map<string, { sessions: number; requests: number }>();
    if (this.recent.length < 2) return rates;
    const [then, now] = this.recent;
    const seconds = (now.at - then.at) / 1000;
    const per = (a: number, b: number | undefined): number => Math.max(0, (a - (b ?? 0)) / seconds);
    for (const f of now.counters.frontends) {
      const before = then.counters.frontends.find((x) => x.name === f.name);
      rates.set(`frontend/${f.name}`, { sessions: per(f.total, before?.total), requests: per(f.requests ?? 0, before?.requests) });
    }
    for (const b of now.counters.backends) {
      const before = then.counters.backends.find((x) => x.name === b.name);
      rates.set(`backend/${b.name}`, { sessions: per(b.total, before?.total), requests: per(b.requests ?? 0, before?.requests) });
      for (const s of b.servers) {
        const sb = before?.servers.find((x) => x.name === s.name)?.total;
        rates.set(`server/${b.name}/${s.name}`, { sessions: per(s.total, sb), requests: per(s.total, sb) });
      }
    }
    return rates;
  }

  private async ask(slot: WorkerSlot): Promise<void> {
    const pid = slot.pid;
    const threads = await slot.snapshot(true);
    if (pid !== undefined && threads !== undefined) this.tally.report(pid, threads);
  }

  reloaded(ok: boolean): void {
    this.counts.lastReloadAt = Date.now();
    this.counts.lastReloadOk = ok;
    if (!ok) return;
    this.counts.reloadTimes.push(this.counts.lastReloadAt);
    if (this.counts.reloadTimes.length > RELOAD_TIMES) this.counts.reloadTimes.shift();
  }

  /** Drained stacks' last counters. */
  folded(pid: number, threads: StackSnapshot[]): void {
    this.tally.fold(pid, threads);
  }

  exited(pid: number | undefined, restarting: boolean): void {
    if (pid !== undefined) this.tally.exited(pid);
    if (restarting) this.counts.workerRestarts++;
  }

  /** The answer to a worker's `stats` request, from what the last poll brought. */
  answer(what: StatsWhat): Promise<string> {
    return what === 'metrics' ? this.metrics() : Promise.resolve(JSON.stringify(this.json()));
  }

  metrics(): Promise<string> {
    const { version } = this.tally;
    const now = Date.now();
    const kept = this.exposed;
    if (kept !== undefined && kept.version === version && now - kept.at < POLL_MS) return kept.text;
    const text = exposition(this.scrape());
    this.exposed = { version, at: now, text };
    return text;
  }

  /** A health check of the serving generation ended. */
  checked(backend: string, server: string, ok: boolean): void {
    const key = `${backend}/${server}`;
    const counts = this.counts.checks.get(key) ?? { ok: 0, failed: 0 };
    if (ok) counts.ok++;
    else counts.failed++;
    this.counts.checks.set(key, counts);
  }

  /** The counters of every frontend, backend and server since the master started, with what lives now. */
  totals(): { counters: Totals; now: Totals } {
    return { counters: this.tally.counters(), now: this.tally.now() };
  }

  private scrape(): ScrapeInput {
    const { counters, now } = this.totals();
    const workers = this.view.generations().flatMap(({ generation }) =>
      generation.slots.flatMap((s) => (s.pid === undefined || s.usage === undefined ? [] : [{ generation: s.generation, group: s.group, pid: s.pid, usage: s.usage }])),
    );
    return { counters, now, servers: this.servers(), process: this.processNumbers(), workers };
  }

  private processNumbers(): ProcessNumbers {
    const v = this.view;
    const c = this.counts;
    const current = v.generations().find((g) => g.role === 'current')?.generation;
    return {
      generation: current?.n ?? 0,
      startedAtS: v.startedAt / 1000,
      reloads: v.reloads,
      failedReloads: v.failedReloads,
      lastReloadS: c.lastReloadAt / 1000,
      lastReloadOk: c.lastReloadOk,
      handedOver: { ...c.handedOver },
      hardStops: c.hardStops,
      workerRestarts: c.workerRestarts,
      openFds: openFds(),
    };
  }

  /** Every configured server with its state, and how long since the master saw that state change. */
  private servers(): (ServerStateRow & { sinceChangeS: number; checks: CheckCounts | undefined })[] {
    const now = Date.now();
    return this.view.servers().rows.map((r) => {
      const key = `${r.backend}/${r.server}`;
      let seen = this.changes.get(key);
      if (seen === undefined || seen.state !== r.state) this.changes.set(key, (seen = { state: r.state, at: seen === undefined ? this.view.startedAt : now }));
      return { ...r, sinceChangeS: Math.round((now - seen.at) / 1000), checks: this.counts.checks.get(key) };
    });
  }

  /** What the stats page shows: every frontend, backend and configured server, totals and what lives. */
  json(): StatsJson {
    const { counters, now } = this.totals();
    const input = { config: this.view.config, counters, now, servers: this.servers(), checks: this.view.checks() };
    const p = this.processNumbers();
    const { startedAt } = this.view;
    return { time: Date.now(), startedAt, generation: p.generation, reloads: p.reloads, failedReloads: p.failedReloads, reloadTimes: [...this.counts.reloadTimes], handedOver: p.handedOver, frontends: frontendRows(input), backends: backendRows(input) };
  }
}

/** The master's open file descriptors (Linux: /proc). */
function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}
