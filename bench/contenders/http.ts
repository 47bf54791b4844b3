// The http line-up, derived from --contenders like the udp one: `ferry` is
// ferry with an HTTP-mode frontend (or a TCP one, --http-ferry-mode tcp),
// `haproxy` is haproxy in `mode http`, `pipe` the plain Node pipe proxy (a
// byte relay). Always there: `http-proxy` (node-http-proxy, the floor's
// baseline) and `direct`, the load generator against the backend with no
// proxy — the ceiling every other row is bounded by.
// A ferry build that refuses HTTP mode gets a row saying so instead of rounds.

import { freePort } from '../lib/free-port';
import { benchScript } from '../lib/paths';
import { startNodeProxy, stopProc } from '../lib/proc';
import { waitForPort } from '../lib/wait-port';
import type { Contender } from './contender';
import { workersOf, type FerrySettings } from './ferry';
import { ferryHttpUnavailable, startFerryHttp, type FerryHttpMode } from './ferry-http';
import { startHaproxy } from './haproxy';
import { pipeKind } from './pipe';

export interface HttpEntry {
  readonly name: string;
  /** backendPid: the direct row has no proxy and charges its CPU to the backend. */
  start(backendPort: number, backendPid: number): Promise<Contender>;
}

export interface HttpLineup {
  readonly entries: HttpEntry[];
  /** Contenders that cannot run this measurement, with the reason their row shows. */
  readonly unavailable: Map<string, string>;
  readonly notes: string[];
}

type Start = HttpEntry['start'];

async function startNodeHttpProxy(name: string, backendPort: number): Promise<Contender> {
  const port = await freePort();
  const proc = startNodeProxy(name, benchScript('http-proxy'), [port, backendPort]);
  await waitForPort(port, proc);
  return { name, port, dataPid: proc.pid, stop: () => stopProc(proc) };
}

function counterpart(want: string, ferry: FerrySettings, ferryMode: FerryHttpMode): Start | null {
  if (want === 'ferry') return (port) => startFerryHttp(ferry, 'ferry', port, ferryMode);
  if (want === 'ferry-base') return (port) => startFerryHttp({ ...ferry, cli: ferry.base ?? '' }, 'ferry-base', port, ferryMode);
  if (want === 'haproxy') return (port) => startHaproxy('haproxy', port, 'http', workersOf(ferry));
  if (want === 'pipe') return (port) => pipeKind.start('pipe', port);
  return null;
}

/** `available` is the TCP line-up's verdict: a contender that cannot run at all is skipped here too. */
export function httpLineup(requested: readonly string[], available: readonly string[], ferry: FerrySettings, ferryMode: FerryHttpMode): HttpLineup {
  const entries: HttpEntry[] = [];
  const unavailable = new Map<string, string>();
  const notes: string[] = [];
  for (const want of [...new Set(requested)]) {
    const start = counterpart(want, ferry, ferryMode);
    if (start === null || !available.includes(want)) {
      notes.push(`http: no HTTP measurement for ${want}`);
      continue;
    }
    const why = want === 'ferry' ? ferryHttpUnavailable(ferry, ferryMode) : want === 'ferry-base' ? ferryHttpUnavailable({ ...ferry, cli: ferry.base ?? '' }, ferryMode) : null;
    if (why === null) entries.push({ name: want, start });
    else unavailable.set(want, why);
  }
  entries.push({ name: 'http-proxy', start: (port) => startNodeHttpProxy('http-proxy', port) });
  entries.push({ name: 'direct', start: async (port, pid) => ({ name: 'direct', port, dataPid: pid, stop: async () => undefined }) });
  return { entries, unavailable, notes };
}
