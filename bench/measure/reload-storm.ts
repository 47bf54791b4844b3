// What a reload every second costs in throughput (issue 13), in HTTP and in TCP mode. For each
// trial a fresh proxy, pinned to its core like every contender, and wrk's keep-alive load from the
// other core, counting responses per 100 ms (load/wrk-timeline.ts):
//   1. warm-up, 1 s;
//   2. steady: 6 s of load, no reload;
//   3. storm: 10 s of load, a reload at 1 s, 2 s … 8 s (the last has 2 s to finish under load);
//   4. steady again, 6 s, once the retired generations are gone;
//   5. dip: 6 s of load with one reload at 2.5 s: the seconds of steady throughput it cost over the
//      3 s after it, and the proxy's CPU beyond its requests in those 3 s (lib/dip.ts). The same
//      over each steady run, as if a reload had come at 2.5 s, is the control: what the box's
//      noise alone makes of those figures.
// The storm's figure is its rate over the mean of the two steady rates around it (the same proxy,
// seconds apart, before and after, so the box's speed, a drift of it and the luck of one process's
// start cancel); the table gives its median over rounds, the steady and storm rates' medians, the
// share of the proxy's CPU its requests took during the storm (at its steady CPU per request: the
// same figure as storm/steady on a quiet CPU, and far steadier when neighbours come and go), and
// the failed requests (wrk's socket errors, timeouts included, plus non-2xx responses) of the
// steady and storm runs summed over the rounds. The proxy's CPU is its master's tree, workers it
// reaped included. Rounds alternate the contenders and are never repeated for noise: a repeat
// would throw away the failures of the round it replaces.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ReloadableContender } from '../contenders/contender';
import type { FerrySettings } from '../contenders/ferry';
import { stormLineup, type StormEntry, type StormMode } from '../contenders/storm';
import type { LoadResult } from '../load/load';
import { requestsBetween, SLICE_MS, sliceOf, wrkTimeline, type Timeline, type TimelineLoad } from '../load/wrk-timeline';
import { startNoiseMeter } from '../lib/cpu-noise';
import { cpuDipOf, dipOf, type CpuMark, type Dip } from '../lib/dip';
import { reapedTreeTicks } from '../lib/cpu-time';
import { freePort } from '../lib/free-port';
import type { Options } from '../lib/options';
import { benchScript } from '../lib/paths';
import { startNodeHelper, stopProc } from '../lib/proc';
import { progress } from '../lib/progress';
import { reloadOnSchedule, settledReloads } from '../lib/reload-schedule';
import { alternate } from '../lib/rounds';
import type { Trial } from '../lib/trial';
import { waitForPort } from '../lib/wait-port';
import { which } from '../lib/which';
import { addFigure, addSample, addTotal, newSection, type Section } from '../report/section';

const WARMUP_S = 1;
const STORM_S = 10;
const INTERVAL_MS = 1000;
const STORM_RELOADS = 8;
/** The dip run, and the steady runs of the same shape. */
const DIP_RUN_S = 6;
/** The steady level of a dip is taken from here (connections open before) to the reload. */
const RAMP_MS = 300;
const DIP_RELOAD_MS = 2500;
const DIP_WINDOW_S = 3;
/** Between runs: the generations a reload retired exit (haproxy's once wrk's connections close). */
const PAUSE_MS = 1000;
/** A request held this long counts as failed, not merely slow (as in the reload measurement). */
const TIMEOUT_S = 2;
/** A trial's length with starts and stops, for the bench's deadline. */
const TRIAL_BUDGET_S = 45;

interface ModeSections {
  readonly storm: Section;
  readonly dip: Section;
}

function failures(section: Section, name: string, run: string, result: LoadResult): void {
  addTotal(section, 'failedRequests', name, result.errors);
  if (result.errors > 0) section.notes.push(`${name}: ${result.errors} failed in one ${run} run (${result.errorDetail})`);
}

/** Each whole second of a run as a share of `rate`, for the progress lines. */
function perSecond(timeline: Timeline, rate: number): string {
  const slices = 1000 / SLICE_MS;
  const shares: string[] = [];
  for (let from = timeline.first + 1; from + slices <= timeline.last; from += slices) {
    let n = 0;
    for (let slice = from; slice < from + slices; slice += 1) n += timeline.counts.get(slice) ?? 0;
    shares.push((n / rate).toFixed(2));
  }
  return shares.join(' ');
}

/** The proxy tree's CPU now (a reading between two samples of its workers' lives: reaped ones count). */
function cpuMark(contender: ReloadableContender): CpuMark {
  return { mono: Number(process.hrtime.bigint()), ticks: reapedTreeTicks(contender.rootPid) ?? Number.NaN };
}

interface MarkedRun {
  readonly result: LoadResult;
  readonly timeline: Timeline;
  /** At the end of the ramp, at the reload (or where it would be), at the window's end. */
  readonly marks: readonly [CpuMark, CpuMark, CpuMark];
}

/**
 * DIP_RUN_S of load with the proxy's CPU read at RAMP_MS, DIP_RELOAD_MS and the window's end, and,
 * when `reload`, a reload at DIP_RELOAD_MS: the dip run, and without a reload a steady run of the
 * same shape, whose figures are the control.
 */
async function markedRun(contender: ReloadableContender, load: TimelineLoad, reload: boolean): Promise<MarkedRun> {
  const offsets = [RAMP_MS, DIP_RELOAD_MS, DIP_RELOAD_MS + DIP_WINDOW_S * 1000];
  const marking = Promise.all(offsets.map((offset) => sleep(offset).then(async () => {
    const mark = cpuMark(contender);
    if (reload && offset === DIP_RELOAD_MS) await contender.reload();
    return mark;
  })));
  const { result, timeline } = await load.run(contender.port, DIP_RUN_S);
  const [ramp, atReload, end] = await marking;
  return { result, timeline, marks: [ramp!, atReload!, end!] };
}

/** The proxy's CPU per request over a steady run, from the ramp's end to the window's end. */
function cpuPerRequest(run: MarkedRun): number {
  const [from, , to] = run.marks;
  return (to.ticks - from.ticks) / requestsBetween(run.timeline, from.mono, to.mono);
}

function uncovered(section: Section, name: string, timeline: Timeline, at: number): void {
  section.notes.push(`${name}: a timeline that does not cover its window (slices ${timeline.first}–${timeline.last}, window from ${at})`);
}

/** A run's dip by throughput (null: the timeline cannot say) and by CPU. */
function dips(section: Section, name: string, run: MarkedRun): { lost: Dip | null; cpu: number | null } {
  const at = sliceOf(BigInt(run.marks[1].mono));
  const lost = dipOf(run.timeline, at, DIP_WINDOW_S);
  if (lost === null) uncovered(section, name, run.timeline, at);
  return { lost, cpu: cpuDipOf(run.timeline, ...run.marks) };
}

/** A run without reloads: its rate, its failures, and its dips as the control. Resolves to the rate and the CPU per request. */
async function steadyRun(contender: ReloadableContender, load: TimelineLoad, sections: ModeSections): Promise<{ rate: number; cpuPerRequest: number }> {
  const run = await markedRun(contender, load, false);
  failures(sections.storm, contender.name, 'steady', run.result);
  const { lost, cpu } = dips(sections.dip, contender.name, run);
  if (lost !== null) addFigure(sections.dip, 'control s lost', contender.name, lost.lostS, 3);
  if (cpu !== null) addFigure(sections.dip, 'control cpu s', contender.name, cpu, 3);
  return { rate: run.result.requestsPerSecond, cpuPerRequest: cpuPerRequest(run) };
}

/** The run with one reload: the seconds of throughput it cost, and of CPU beyond the requests served. */
async function dip(contender: ReloadableContender, load: TimelineLoad, section: Section): Promise<void> {
  const before = await contender.reloadsDone();
  const run = await markedRun(contender, load, true);
  const done = await settledReloads(contender, before, 1);
  addTotal(section, 'reloadsDone', contender.name, done);
  failures(section, contender.name, 'dip', run.result);
  const { lost, cpu } = dips(section, contender.name, run);
  if (cpu !== null) addFigure(section, 'cpu s', contender.name, cpu, 3);
  if (lost === null) return;
  addSample(section, contender.name, lost.lostS);
  addFigure(section, 'steady req/s', contender.name, lost.steadyRate, 0);
  const shares = lost.shares.slice(0, 12).map((share) => share.toFixed(2)).join(' ');
  progress(`    ${contender.name}: one reload cost ${lost.lostS.toFixed(3)} s of steady throughput (${Math.round(lost.steadyRate)} req/s), ${cpu?.toFixed(3) ?? '?'} s of CPU beyond its requests; per 100 ms from the reload: ${shares} …`);
}

/** Load for STORM_S with a reload every second from 1 s to 8 s; the share of the proxy's CPU its requests took, at `cpuPerRequest`. */
async function storm(contender: ReloadableContender, load: TimelineLoad, section: Section, steady: { rate: number; cpuPerRequest: number }): Promise<{ result: LoadResult; cpuOnRequests: number }> {
  const before = await contender.reloadsDone();
  const ticker = new AbortController();
  const reloads = reloadOnSchedule(contender, STORM_RELOADS, INTERVAL_MS, ticker.signal, section.notes);
  const from = cpuMark(contender);
  const { result, timeline } = await load.run(contender.port, STORM_S).finally(() => ticker.abort());
  const to = cpuMark(contender);
  const sent = await reloads;
  const done = await settledReloads(contender, before, sent);
  addTotal(section, 'reloadsDone', contender.name, done);
  addTotal(section, 'reloadsSent', contender.name, sent);
  const cpuOnRequests = (result.requests * steady.cpuPerRequest) / (to.ticks - from.ticks);
  progress(`    ${contender.name}: storm ${Math.round(result.requestsPerSecond)} req/s, ${done} of ${sent} reloads done, ${result.errors} failed (${result.errorDetail}), ${cpuOnRequests.toFixed(2)} of the CPU on requests; each second over steady: ${perSecond(timeline, steady.rate)}`);
  return { result, cpuOnRequests };
}

async function stormTrial(entry: StormEntry, backendPort: number, load: TimelineLoad, sections: ModeSections): Promise<Trial> {
  const contender = await entry.start(backendPort);
  try {
    await load.run(contender.port, WARMUP_S);
    const noiseOf = startNoiseMeter();
    const before = await steadyRun(contender, load, sections);
    const stormed = await storm(contender, load, sections.storm, before);
    failures(sections.storm, entry.name, 'storm', stormed.result);
    await sleep(PAUSE_MS);
    const after = await steadyRun(contender, load, sections);
    await dip(contender, load, sections.dip);
    const noise = noiseOf();
    const steady = (before.rate + after.rate) / 2;
    addFigure(sections.storm, 'steady req/s', entry.name, steady, 0);
    addFigure(sections.storm, 'storm req/s', entry.name, stormed.result.requestsPerSecond, 0);
    addFigure(sections.storm, 'cpu on requests', entry.name, stormed.cpuOnRequests, 3);
    return { value: stormed.result.requestsPerSecond / steady, cost: Number.NaN, userCost: Number.NaN, noise };
  } finally {
    await contender.stop();
  }
}

function modeSections(mode: StormMode, load: TimelineLoad): ModeSections {
  const Mode = mode === 'http' ? 'Http' : 'Tcp';
  const storm = newSection(`reloadStorm${Mode}`, `reload storm, ${mode} mode: req/s with a reload every ${INTERVAL_MS / 1000} s for ${STORM_RELOADS} s over the steady req/s of the same proxy just before and after (${load.describe}; ${DIP_RUN_S} s steady, ${STORM_S} s storm; cpu on requests: the requests' share of the proxy's CPU during the storm, at the steady CPU per request)`, 'storm/steady', 'higher');
  storm.digits = 3;
  const dip = newSection(`reloadDip${Mode}`, `one reload under load, ${mode} mode: seconds of steady throughput lost in the ${DIP_WINDOW_S} s after it; cpu s: the proxy's CPU beyond its requests at the steady cost, in that window; control: the same over the steady runs, without a reload`, 's lost', 'lower');
  dip.digits = 3;
  dip.compare = false;
  return { storm, dip };
}

async function measureMode(mode: StormMode, entries: readonly StormEntry[], unavailable: ReadonlyMap<string, string>, backendPort: number, load: TimelineLoad, options: Options): Promise<Section[]> {
  const sections = modeSections(mode, load);
  for (const section of [sections.storm, sections.dip]) {
    for (const [name, why] of unavailable) section.unavailable.set(name, why);
  }
  if (entries.length === 0) return [sections.storm, sections.dip];
  progress(`reload-storm, ${mode} mode:`);
  // Never repeated for noise: a repeat would throw away the failures of the round it replaces.
  const policy = { rounds: options.stormRounds, maxNoise: options.maxNoise, retries: 0 };
  const rounds = await alternate(entries, policy,
    (entry) => stormTrial(entry, backendPort, load, sections),
    (value) => `storm/steady ${value.toFixed(3)}`);
  for (const [name, values] of rounds.samples) sections.storm.samples.set(name, values);
  sections.storm.noise.push(...rounds.noise);
  sections.dip.noise.push(...rounds.noise);
  return [sections.storm, sections.dip];
}

/** Seconds a reload-storm run may take, for the bench's deadline. */
export function stormBudgetS(options: Options): number {
  return options.stormRounds * options.stormModes.length * 2 * TRIAL_BUDGET_S;
}

/** `available`: the contenders the TCP line-up can run. Needs wrk (the timeline is a wrk script). */
export async function measureReloadStorm(requested: readonly string[], available: readonly string[], ferry: FerrySettings, options: Options): Promise<Section[]> {
  const wrk = which('wrk');
  if (wrk === null) throw new Error('reload-storm needs wrk (bench/install-tools.sh installs it)');
  const load = wrkTimeline(wrk, options.connections, TIMEOUT_S);
  const port = await freePort();
  const backend = startNodeHelper('backend', benchScript('backend'), [port]);
  const sections: Section[] = [];
  try {
    await waitForPort(port, backend);
    for (const mode of options.stormModes) {
      const lineup = stormLineup(requested, available, ferry, mode);
      const measured = await measureMode(mode, lineup.entries, lineup.unavailable, port, load, options);
      measured[0]!.notes.push(...lineup.notes);
      sections.push(...measured);
    }
  } finally {
    await stopProc(backend);
  }
  return sections;
}
