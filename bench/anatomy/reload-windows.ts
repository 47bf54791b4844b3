// One reload of a scenario run taken apart. The window is the reload's: from its SIGHUP until
// WINDOW_MS later (each reload's effects are over well before the next); the steady reference is
// the PRE_MS before the SIGHUP. Every figure is CPU time (ms) unless it says otherwise:
//   start        the new worker from fork to ready: Node's boot (to the probe's first line), ferry's
//                modules (to the master's first message), init (to 'ready'), from the probe;
//   handOver     the old worker from the master's 'stop' to its exit: handing its sessions over
//                (under load also finishing the responses under way), from the probe;
//   master       the master's CPU in the window, less its steady rate;
//   adopt        the new worker from ready until it had handled the last hand-over part, from the
//                probe (idle: adopting the sessions alone; under load also serving requests);
//   newAfter     the new worker from ready to the window's end: adopting the sessions and, under
//                load, serving requests; `newExtra` is that less the requests it served at the old
//                worker's steady CPU per request (adoption and cold code);
//   oldExtra     the old worker from the SIGHUP to 'stop', less its requests at the steady cost
//                (close to 0: it serves as before, only with less of the CPU).
// Under load the proxy CPU is saturated, so what a reload costs it is requests not served. The
// window's CPU time is ferry's (its requests at the steady cost, plus `ferryExtra`, which the parts
// above take apart), the TCP stack's softirq work (in proportion to the requests, plus `irqExtra`),
// idle time and others' time (neighbours, steal), each `Extra` less its steady rate. Then
//   lost requests × (ferry + softirq time per request in steady) = ferryExtra + irqExtra + idleExtra + othersExtra,
// and `lost` (seconds of steady throughput, as lib/dip.ts) is lost requests over the steady rate.

import { requestsBetween, SLICE_MS, type Timeline } from '../load/wrk-timeline';
import type { WorkerLife } from './probe-log';
import { at, type Sample } from './sampler';
import type { ScenarioRun } from './scenario';

export const WINDOW_MS = 2500;
export const PRE_MS = 1000;
const TICK_MS = 10;
const MS = 1e6;
/** Slices after the take-over shown one by one (cold code). */
export const COLD_SLICES = 10;

export interface ReloadParts {
  readonly bootMs: number;
  readonly modulesMs: number;
  readonly initMs: number;
  readonly startMs: number;
  /** Wall time from SIGHUP to the new worker's ready. */
  readonly startWallMs: number;
  readonly handOverMs: number;
  readonly handOverWallMs: number;
  /** Hand-over messages (one per socket) the old worker sent. */
  readonly parts: number;
  readonly masterMs: number;
  readonly adoptMs: number | null;
  /** From the old worker's stop until the new one had handled the last part. */
  readonly adoptWallMs: number | null;
  readonly partsIn: number;
  readonly newAfterMs: number;
  /** Under load only (null when idle). */
  readonly load: LoadParts | null;
}

export interface LoadParts {
  /** The old worker's CPU per request before the reload, µs. */
  readonly steadyUsPerReq: number;
  readonly steadyReqPerS: number;
  /** The proxy CPU's time per request in steady: ferry's and the softirq's, µs. */
  readonly coreUsPerReq: number;
  readonly oldExtraMs: number;
  readonly newExtraMs: number;
  /** The new worker's CPU from ready to the window's end in threads other than its main thread, less the old worker's steady share of those per request. */
  readonly newOffMainExtraMs: number;
  readonly ferryExtraMs: number;
  readonly irqExtraMs: number;
  readonly idleExtraMs: number;
  readonly othersExtraMs: number;
  readonly lostS: number;
  /** The lost requests at coreUsPerReq. */
  readonly lostCoreMs: number;
  /** Each 100 ms from the take-over: requests as a share of steady, and the new worker's CPU per request over the steady cost (all threads, and the main thread's over its steady). */
  readonly coldShare: readonly number[];
  readonly coldCost: readonly number[];
  readonly coldMainCost: readonly number[];
}

const requests = requestsBetween;

type Series = (s: Sample) => number | undefined;

const tree: Series = (s) => s.master + s.reaped + [...s.children.values()].reduce((a, b) => a + b, 0);
const master: Series = (s) => s.master;
const idle: Series = (s) => s.cpuIdle;
const irq: Series = (s) => s.cpuIrq;
const others: Series = (s) => s.cpuTasks + s.cpuSteal - (tree(s) ?? 0);
const child = (pid: number): Series => (s) => s.children.get(pid);
const mainThread = (pid: number): Series => (s) => s.mainThreads.get(pid);

/** Ticks of a series in [from, to), in ms. */
function spent(samples: readonly Sample[], series: Series, from: number, to: number): number {
  const a = at(samples, from, series);
  const b = at(samples, to, series);
  return a === null || b === null ? Number.NaN : (b - a) * TICK_MS;
}

/** In the window, less the steady rate of the PRE_MS before it. */
function extra(samples: readonly Sample[], series: Series, reload: number): number {
  const pre = spent(samples, series, reload - PRE_MS * MS, reload);
  return spent(samples, series, reload, reload + WINDOW_MS * MS) - (pre * WINDOW_MS) / PRE_MS;
}

function loadParts(run: ScenarioRun, timeline: Timeline, reload: number, old: WorkerLife, next: WorkerLife, newAfterMs: number): LoadParts {
  const end = reload + WINDOW_MS * MS;
  const takeOver = old.stop!.mono;
  const preRequests = requests(timeline, reload - PRE_MS * MS, reload);
  const steadyReqPerS = preRequests / (PRE_MS / 1000);
  const steadyUsPerReq = (spent(run.samples, child(old.pid), reload - PRE_MS * MS, reload) * 1000) / preRequests;
  const steadyMainUsPerReq = (spent(run.samples, mainThread(old.pid), reload - PRE_MS * MS, reload) * 1000) / preRequests;
  const oldCpuAtReload = at(run.samples, reload, child(old.pid));
  const oldServeMs = oldCpuAtReload === null ? Number.NaN : old.stop!.cpuUs / 1000 - oldCpuAtReload * TICK_MS;
  const oldExtraMs = oldServeMs - (requests(timeline, reload, takeOver) * steadyUsPerReq) / 1000;
  const newExtraMs = newAfterMs - (requests(timeline, takeOver, end) * steadyUsPerReq) / 1000;
  const windowRequests = requests(timeline, reload, end);
  const lostS = WINDOW_MS / 1000 - windowRequests / steadyReqPerS;
  const pre = (series: Series): number => spent(run.samples, series, reload - PRE_MS * MS, reload);
  const inWindow = (series: Series): number => spent(run.samples, series, reload, end);
  const ferryUsPerReq = (pre(tree) * 1000) / preRequests;
  const irqUsPerReq = (pre(irq) * 1000) / preRequests;
  const coreUsPerReq = ferryUsPerReq + irqUsPerReq;
  const coldShare: number[] = [];
  const coldCost: number[] = [];
  const coldMainCost: number[] = [];
  for (let k = 0; k < COLD_SLICES; k += 1) {
    const from = takeOver + k * SLICE_MS * MS;
    const to = from + SLICE_MS * MS;
    const n = requests(timeline, from, to);
    coldShare.push(n / (steadyReqPerS * (SLICE_MS / 1000)));
    coldCost.push((spent(run.samples, child(next.pid), from, to) * 1000) / n / steadyUsPerReq);
    coldMainCost.push((spent(run.samples, mainThread(next.pid), from, to) * 1000) / n / steadyMainUsPerReq);
  }
  const served = requests(timeline, takeOver, end);
  const newOffMainMs = spent(run.samples, child(next.pid), next.ready!.mono, end) - spent(run.samples, mainThread(next.pid), next.ready!.mono, end);
  const newOffMainExtraMs = newOffMainMs - (served * (steadyUsPerReq - steadyMainUsPerReq)) / 1000;
  return {
    steadyUsPerReq,
    steadyReqPerS,
    coreUsPerReq,
    oldExtraMs,
    newExtraMs,
    newOffMainExtraMs,
    ferryExtraMs: inWindow(tree) - (windowRequests * ferryUsPerReq) / 1000,
    irqExtraMs: inWindow(irq) - (windowRequests * irqUsPerReq) / 1000,
    idleExtraMs: extra(run.samples, idle, reload),
    othersExtraMs: extra(run.samples, others, reload),
    lostS,
    lostCoreMs: (lostS * steadyReqPerS * coreUsPerReq) / 1000,
    coldShare,
    coldCost,
    coldMainCost,
  };
}

/** The reload's parts, or null when the probe did not see both workers of it. */
export function reloadParts(run: ScenarioRun, index: number): ReloadParts | null {
  const reload = run.reloads[index]!;
  const nextReload = run.reloads[index + 1] ?? Number.POSITIVE_INFINITY;
  const next = run.lives.find((l) => l.loaded !== undefined && l.loaded.mono > reload && l.loaded.mono < nextReload);
  const old = run.lives.find((l) => l.stop !== undefined && l.stop.mono > reload && l.stop.mono < nextReload && l !== next);
  if (next?.loaded === undefined || next.firstMessage === undefined || next.ready === undefined || old?.stop === undefined || old.exit === undefined) return null;
  const end = reload + WINDOW_MS * MS;
  const newAtEnd = at(run.samples, end, child(next.pid));
  const newAfterMs = newAtEnd === null ? Number.NaN : newAtEnd * TICK_MS - next.ready.cpuUs / 1000;
  return {
    bootMs: next.loaded.cpuUs / 1000,
    modulesMs: (next.firstMessage.cpuUs - next.loaded.cpuUs) / 1000,
    initMs: (next.ready.cpuUs - next.firstMessage.cpuUs) / 1000,
    startMs: next.ready.cpuUs / 1000,
    startWallMs: (next.ready.mono - reload) / MS,
    handOverMs: (old.exit.cpuUs - old.stop.cpuUs) / 1000,
    handOverWallMs: (old.exit.mono - old.stop.mono) / MS,
    parts: old.exit.partsOut,
    masterMs: extra(run.samples, master, reload),
    adoptMs: next.adopted === undefined ? null : (next.adopted.cpuUs - next.ready.cpuUs) / 1000,
    adoptWallMs: next.adopted === undefined ? null : (next.adopted.mono - old.stop.mono) / MS,
    partsIn: next.adopted?.partsIn ?? 0,
    newAfterMs,
    load: run.timeline === null ? null : loadParts(run, run.timeline, reload, old, next, newAfterMs),
  };
}
