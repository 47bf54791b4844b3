// What a reload every second costs in throughput (issue 13), in HTTP and in TCP mode. For each
// trial a fresh proxy, pinned to its core like every contender, and wrk's keep-alive load from the
// other core, counting responses per 100 ms (load/wrk-timeline.ts):
//   1. warm-up, 1 s;
//   2. steady: 6 s of load, no reload;
//   3. storm: 10 s of load, a reload at 1 s, 2 s … 8 s (the last has 2 s to finish under load);
//   4. steady again, 6 s, once the retired generations are gone;
//   5. dip: 6 s of load with one reload at 2.5 s: the seconds of steady throughput it cost over the
//      3 s after it (lib/dip.ts). The same sum over each steady run, as if a reload had come at
//      2.5 s, is the control: what the box's noise alone makes of that figure.
// The storm's figure is its rate over the mean of the two steady rates around it (the same proxy,
// seconds apart, before and after, so the box's speed, a drift of it and the luck of one process's
// start cancel); the table gives its median over rounds, the steady and storm rates' medians, and
// the failed requests (wrk's socket errors, timeouts included, plus non-2xx responses) of the
// steady and storm runs summed over the rounds. Rounds alternate the contenders and are never
// repeated for noise: a repeat would throw away the failures of the round it replaces.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ReloadableContender } from '../contenders/contender';
import type { FerrySettings } from '../contenders/ferry';
import { stormLineup, type StormEntry, type StormMode } from '../contenders/storm';
import type { LoadResult } from '../load/load';
import { SLICE_MS, sliceOf, wrkTimeline, type Timeline, type TimelineLoad } from '../load/wrk-timeline';
import { startNoiseMeter } from '../lib/cpu-noise';
import { dipOf, type Dip } from '../lib/dip';
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
const STEADY_S = 6;
const STORM_S = 10;
const INTERVAL_MS = 1000;
const STORM_RELOADS = 8;
const DIP_RUN_S = 6;
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

/** Load for STORM_S with a reload every second from 1 s to 8 s. */
async function storm(contender: ReloadableContender, load: TimelineLoad, section: Section, steadyRate: number): Promise<LoadResult> {
  const before = await contender.reloadsDone();
  const ticker = new AbortController();
  const reloads = reloadOnSchedule(contender, STORM_RELOADS, INTERVAL_MS, ticker.signal, section.notes);
  const { result, timeline } = await load.run(contender.port, STORM_S).finally(() => ticker.abort());
  const sent = await reloads;
  const done = await settledReloads(contender, before, sent);
  addTotal(section, 'reloadsDone', contender.name, done);
  addTotal(section, 'reloadsSent', contender.name, sent);
  progress(`    ${contender.name}: storm ${Math.round(result.requestsPerSecond)} req/s, ${done} of ${sent} reloads done, ${result.errors} failed (${result.errorDetail}); each second over steady: ${perSecond(timeline, steadyRate)}`);
  return result;
}

function uncovered(section: Section, name: string, timeline: Timeline, at: number): void {
  section.notes.push(`${name}: a timeline that does not cover its window (slices ${timeline.first}–${timeline.last}, window from ${at})`);
}

/** The dip sum over the steady run, at the place of the dip run's reload: the noise floor of that figure. */
function control(section: Section, name: string, steady: Timeline): void {
  const at = steady.first + Math.round(DIP_RELOAD_MS / SLICE_MS);
  const found: Dip | null = dipOf(steady, at, DIP_WINDOW_S);
  if (found === null) return uncovered(section, name, steady, at);
  addFigure(section, 'control s lost', name, found.lostS, 3);
}

/** The timeline run with one reload; records the seconds lost, or a note when the timeline cannot say. */
async function dip(contender: ReloadableContender, load: TimelineLoad, section: Section): Promise<void> {
  const before = await contender.reloadsDone();
  let reloadSlice = -1;
  const reloading = sleep(DIP_RELOAD_MS).then(async () => {
    reloadSlice = sliceOf(process.hrtime.bigint());
    await contender.reload();
  });
  const { result, timeline } = await load.run(contender.port, DIP_RUN_S);
  await reloading;
  const done = await settledReloads(contender, before, 1);
  addTotal(section, 'reloadsDone', contender.name, done);
  failures(section, contender.name, 'dip', result);
  const found = dipOf(timeline, reloadSlice, DIP_WINDOW_S);
  if (found === null) return uncovered(section, contender.name, timeline, reloadSlice);
  addSample(section, contender.name, found.lostS);
  addFigure(section, 'steady req/s', contender.name, found.steadyRate, 0);
  addFigure(section, 'after/steady', contender.name, found.after, 3);
  const shares = found.shares.slice(0, 12).map((share) => share.toFixed(2)).join(' ');
  progress(`    ${contender.name}: one reload cost ${found.lostS.toFixed(3)} s of steady throughput (${Math.round(found.steadyRate)} req/s); per 100 ms from the reload: ${shares} …`);
}

/** A run without reloads: its rate, its failures, and the dip sum over it as the control. */
async function steadyRun(contender: ReloadableContender, load: TimelineLoad, sections: ModeSections): Promise<number> {
  const { result, timeline } = await load.run(contender.port, STEADY_S);
  failures(sections.storm, contender.name, 'steady', result);
  control(sections.dip, contender.name, timeline);
  return result.requestsPerSecond;
}

async function stormTrial(entry: StormEntry, backendPort: number, load: TimelineLoad, sections: ModeSections): Promise<Trial> {
  const contender = await entry.start(backendPort);
  try {
    await load.run(contender.port, WARMUP_S);
    const noiseOf = startNoiseMeter();
    const before = await steadyRun(contender, load, sections);
    const stormed = await storm(contender, load, sections.storm, before);
    failures(sections.storm, entry.name, 'storm', stormed);
    await sleep(PAUSE_MS);
    const after = await steadyRun(contender, load, sections);
    await dip(contender, load, sections.dip);
    const noise = noiseOf();
    const steady = (before + after) / 2;
    addFigure(sections.storm, 'steady req/s', entry.name, steady, 0);
    addFigure(sections.storm, 'storm req/s', entry.name, stormed.requestsPerSecond, 0);
    return { value: stormed.requestsPerSecond / steady, cost: Number.NaN, noise };
  } finally {
    await contender.stop();
  }
}

function modeSections(mode: StormMode, load: TimelineLoad): ModeSections {
  const Mode = mode === 'http' ? 'Http' : 'Tcp';
  const storm = newSection(`reloadStorm${Mode}`, `reload storm, ${mode} mode: req/s with a reload every ${INTERVAL_MS / 1000} s for ${STORM_RELOADS} s over the steady req/s of the same proxy just before and after (${load.describe}; ${STEADY_S} s steady, ${STORM_S} s storm)`, 'storm/steady', 'higher');
  storm.digits = 3;
  const dip = newSection(`reloadDip${Mode}`, `one reload under load, ${mode} mode: seconds of steady throughput lost in the ${DIP_WINDOW_S} s after it (the control: the same sum over the steady runs, without a reload)`, 's lost', 'lower');
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
