import type { Config } from '../src/config/types';
import type { TrafficCounters } from '../src/lib/traffic';
import type { CheckStat, ServerStateRow } from './server-states';
import type { Totals } from './stats';
import { sessionsOf } from './exposition';

/** What the stats page reads (GET /stats.json): every frontend, backend and configured server. */
export interface StatsJson {
  time: number;
  startedAt: number;
  generation: number;
  reloads: number;
  failedReloads: number;
  /** When the last reloads were done (ms since the epoch): the chart marks them. */
  reloadTimes: number[];
  handedOver: { session: number; flow: number };
  frontends: FrontendRow[];
  backends: BackendRow[];
}

type TrafficRow = { bytesIn: number; bytesOut: number; statuses: number[] };
type FrontendRow = { name: string; mode: string; current: number; total: number; requests: number; errors: number } & TrafficRow;
type ServerRow = { name: string; address: string; state: string; weight: number; current: number; total: number; failures: number; check: string | null; sinceChangeS: number } & TrafficRow;
type BackendRow = { name: string; up: number; current: number; total: number; queue: number; failures: number; servers: ServerRow[] } & TrafficRow;

/** The tally's totals and gauges, with the master's view of each server. */
export interface JsonInput {
  config: Config;
  counters: Totals;
  now: Totals;
  servers: readonly (ServerStateRow & { sinceChangeS: number })[];
  checks: ReadonlyMap<string, CheckStat>;
}

/** Every configured frontend from the start (before a first report), and those a reload removed, with their totals. */
export function frontendRows(x: JsonInput): FrontendRow[] {
  const names = new Set([...Object.keys(x.config.frontends), ...x.counters.frontends.map((f) => f.name)]);
  return [...names].map((name) => {
    const f = x.counters.frontends.find((y) => y.name === name);
    return {
      name,
      mode: x.config.frontends[name]?.mode ?? 'removed',
      current: x.now.frontends.find((y) => y.name === name)?.current ?? 0,
      total: f?.total ?? 0,
      requests: f?.requests ?? 0,
      errors: Object.values(f?.terminations ?? {}).reduce((n, k) => n + k, 0),
      ...trafficOf(f?.traffic),
    };
  });
}

/** Every configured backend, each with every configured server: states from the master, counters from the tally. */
export function backendRows(x: JsonInput): BackendRow[] {
  return Object.keys(x.config.backends).map((name) => {
    const live = x.now.backends.find((b) => b.name === name);
    const sum = x.counters.backends.find((b) => b.name === name);
    const servers = x.servers.filter((s) => s.backend === name).map((s) => serverRow(x, s, sum?.servers.find((y) => y.name === s.server), live?.servers.find((y) => y.name === s.server)?.active ?? 0));
    return {
      name,
      up: servers.filter((s) => s.state === 'UP').length,
      current: live?.current ?? 0,
      total: sum === undefined ? 0 : sessionsOf(sum),
      queue: live?.queue.current ?? 0,
      failures: servers.reduce((n, s) => n + s.failures, 0),
      ...trafficOf(sum?.traffic),
      servers,
    };
  });
}

function serverRow(x: JsonInput, s: JsonInput['servers'][number], sum: Totals['backends'][number]['servers'][number] | undefined, current: number): ServerRow {
  const check = x.checks.get(`${s.backend}/${s.server}`);
  return {
    name: s.server,
    address: s.address,
    state: s.state,
    weight: s.weight,
    current,
    total: sum?.total ?? 0,
    failures: sum?.failures ?? 0,
    check: check === undefined ? null : `${check.checks - check.failed}/${check.checks} passed`,
    sinceChangeS: s.sinceChangeS,
    ...trafficOf(sum?.traffic),
  };
}

function trafficOf(t: TrafficCounters | undefined): TrafficRow {
  return { bytesIn: t?.bytesIn ?? 0, bytesOut: t?.bytesOut ?? 0, statuses: t?.statuses ?? [0, 0, 0, 0, 0, 0] };
}
