// Per-core speed as workers grow: ferry with N thread groups of one thread against haproxy with
// nbthread N, for N = 1, 2, 4 ... up to the machine's CPUs less those of the load generator and the
// backend (a quarter of them, at least one: a 2-core machine measures 1 worker only), in TCP mode
// (a byte relay of keep-alive HTTP) and HTTP mode. Each proxy gets N cores of its own (affinity.ts),
// wrk gets a thread per worker up to the load's cores and --connections per worker. Rounds
// alternate ferry and haproxy within a size, as in rate; the trial is http.ts's.

import os from 'node:os';
import type { FerrySettings } from '../contenders/ferry';
import { ferryHttpUnavailable, startFerryHttp, type FerryHttpMode } from '../contenders/ferry-http';
import { haproxyUnavailable, startHaproxy } from '../contenders/haproxy';
import type { HttpEntry } from '../contenders/http';
import { wrkGenerator } from '../load/wrk';
import type { LoadGenerator } from '../load/load';
import { freePort } from '../lib/free-port';
import { roundPolicy, type Options } from '../lib/options';
import { benchScript } from '../lib/paths';
import { startNodeHelper, stopProc, type Proc } from '../lib/proc';
import { alternate } from '../lib/rounds';
import { median, ratio } from '../lib/stats';
import { waitForPort } from '../lib/wait-port';
import { which } from '../lib/which';
import { absorbRounds, newSection, type Section } from '../report/section';
import { httpTrial } from './http';

const MIN_ROUNDS = 5;
const WRK_TIMEOUT_S = 10;

/** The CPUs wrk and the backend need: a quarter, at least one. */
function loadCores(cpus: number): number {
  return Math.max(1, Math.floor(cpus / 4));
}

/** 1, 2, 4 ... workers, as many as the CPUs left after the load's. */
export function scaleSizes(cpus = os.cpus().length): number[] {
  const sizes: number[] = [];
  for (let n = 1; n <= Math.max(1, cpus - loadCores(cpus)); n *= 2) sizes.push(n);
  return sizes;
}

/** The cores the proxies are kept (run.ts pins by it): --groups x --threads, or scale's largest size. */
export function proxyCoresWanted(options: Options): number {
  const scale = options.only.includes('scale') ? Math.max(...scaleSizes()) : 1;
  return Math.max(options.groups * options.threads, scale);
}

function loadFor(wrk: string, workers: number, options: Options): LoadGenerator {
  const threads = Math.min(workers, loadCores(os.cpus().length));
  return wrkGenerator(wrk, options.connections * workers, WRK_TIMEOUT_S, undefined, threads);
}

function entriesFor(workers: number, mode: FerryHttpMode, ferry: FerrySettings): HttpEntry[] {
  const size = { ...ferry, groups: workers, threads: 1 };
  return [
    { name: `ferry x${workers}`, start: (port) => startFerryHttp(size, `ferry x${workers}`, port, mode) },
    { name: `haproxy x${workers}`, start: (port) => startHaproxy(`haproxy x${workers}`, port, mode, workers) },
  ];
}

async function measureSize(section: Section, workers: number, mode: FerryHttpMode, wrk: string, backend: { port: number; proc: Proc }, options: Options, ferry: FerrySettings): Promise<void> {
  const load = loadFor(wrk, workers, options);
  const policy = { ...roundPolicy(options), rounds: Math.max(MIN_ROUNDS, options.rounds) };
  const rounds = await alternate(entriesFor(workers, mode, ferry), policy,
    (entry) => httpTrial(entry, backend.port, backend.proc.pid, load, options, section),
    (value) => `${Math.round(value)} req/s`);
  absorbRounds(section, rounds, 1e6);
  const ferryRate = median(section.samples.get(`ferry x${workers}`) ?? []);
  const haproxyRate = median(section.samples.get(`haproxy x${workers}`) ?? []);
  section.notes.push(`${workers} worker(s), ${load.describe}: ferry/haproxy ${ratio(ferryRate, haproxyRate).toFixed(3)}`);
}

function scaleSection(mode: FerryHttpMode, options: Options, sizes: readonly number[]): Section {
  const upper = mode.toUpperCase();
  const title = `scale, ${upper} mode: ferry N groups x 1 thread against haproxy nbthread N, N = ${sizes.join(', ')} (${options.durationS} s per round)`;
  const section = newSection(mode === 'tcp' ? 'scaleTcp' : 'scaleHttp', title, 'req/s', 'higher', 'cpu µs/req');
  // Rows are sizes as well as contenders: the ratios that mean something are per size, in the notes.
  section.compare = false;
  return section;
}

/** Why scale cannot run here, or null. */
function unavailable(): string | null {
  if (which('wrk') === null) return 'scale needs wrk on PATH (bench/install-tools.sh installs it)';
  return haproxyUnavailable();
}

export async function measureScale(options: Options, ferry: FerrySettings): Promise<Section[]> {
  const cpus = os.cpus().length;
  const sizes = scaleSizes(cpus);
  const sections = (['tcp', 'http'] as const).map((mode) => scaleSection(mode, options, sizes));
  if (sizes.length === 1) {
    sections[0]!.notes.push(`${cpus} CPUs, ${loadCores(cpus)} kept for wrk and the backend: 1 worker only (16 CPUs measure 1, 2, 4 and 8)`);
  }
  const why = unavailable();
  if (why !== null) {
    for (const section of sections) section.notes.push(why);
    return sections;
  }
  const port = await freePort();
  const proc = startNodeHelper('backend', benchScript('backend'), [port]);
  try {
    await waitForPort(port, proc);
    for (const section of sections) {
      const mode = section.key === 'scaleTcp' ? 'tcp' : 'http';
      const refused = ferryHttpUnavailable(ferry, mode);
      if (refused !== null) {
        section.unavailable.set('ferry', refused);
        continue;
      }
      for (const workers of sizes) await measureSize(section, workers, mode, which('wrk')!, { port, proc }, options, ferry);
    }
  } finally {
    await stopProc(proc);
  }
  return sections;
}
