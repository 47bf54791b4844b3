// What reloads back to back leave behind (issue 13): ferry in HTTP mode, one group of one thread,
// pinned like every contender, under wrk's keep-alive load (50 connections) throughout; after 15 s of
// load, `--soak-reloads` reloads (1,000) through the master CLI's `reload`, each awaited, as an
// operator's script would. 10 s after the 10th reload and 10 s after the last, the load still on:
// the master's and the worker's RSS (median of 5 samples, lib/rss.ts), the master's open fds, and the
// worker's heap in use (`show threads`). The first reloads load and compile what a reload needs
// once; from the 10th on, what grows is what reloads leave behind. The figure judged is the RSS at
// the end over the RSS after the 10th, for the master and for the worker; the fds the master gained
// and the requests wrk saw fail (socket errors, timeouts, non-2xx) are totals.

import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendCommand } from '../../src/control/client';
import type { FerrySettings } from '../contenders/ferry';
import { launch, proxyConfig, reloadable } from '../contenders/ferry';
import { parseWrk } from '../load/wrk';
import type { Options } from '../lib/options';
import { benchScript } from '../lib/paths';
import { freePort } from '../lib/free-port';
import { startNodeHelper, startProc, stopProc } from '../lib/proc';
import { progress } from '../lib/progress';
import { sampleRssBytes } from '../lib/rss';
import { waitForPort } from '../lib/wait-port';
import { which } from '../lib/which';
import { addFigure, addSample, addTotal, newSection, type Section } from '../report/section';

/** Reloads before the baseline: what the first ones load and compile is not a leak. */
const BASELINE_AFTER = 10;
/**
 * Load before the first reload: a worker's heap grows to its size under load in the first seconds
 * (measured here with no reload at all: V8's heap 25 MB after 5 s of load, 42 MB from 10 s on, RSS
 * 74 then 88 MB), which no reload causes.
 */
const WARMUP_MS = 15_000;
/**
 * Each point is taken this long after the reloads before it, under load: V8 gives memory back to the
 * system a few seconds after a burst of allocation (its memory reducer starts 8 s after), and both
 * points are taken alike, so what remains is what the reloads kept.
 */
const SETTLE_MS = 10_000;
/** wrk runs until stopped; this bounds it should the bench die first. */
const WRK_CEILING_S = 3600;
const MB = 1048576;

interface Point {
  readonly masterRss: number;
  readonly workerRss: number;
  readonly masterFds: number;
  readonly workerHeap: number;
}

/** A run's length at about 80 ms a reload, plus the start and the samples, for the bench's deadline. */
export function soakBudgetS(options: Options): number {
  return Math.ceil(options.soakReloads * 0.08) + (WARMUP_MS + 2 * SETTLE_MS) / 1000 + 60;
}

async function pointOf(master: number, worker: number, socket: string): Promise<Point> {
  const threads = await sendCommand(socket, 'show threads');
  const heap = (threads.data as { heapUsed: number }[] | undefined)?.[0]?.heapUsed ?? NaN;
  return { masterRss: await sampleRssBytes(master), workerRss: await sampleRssBytes(worker), masterFds: fs.readdirSync(`/proc/${master}/fd`).length, workerHeap: heap };
}

async function reloadOnce(socket: string, n: number): Promise<void> {
  const reply = await sendCommand(socket, 'reload');
  if (!reply.ok) throw new Error(`reload ${n} failed: ${reply.lines.join(' ')}`);
}

export async function measureReloadSoak(settings: FerrySettings, options: Options): Promise<Section[]> {
  const masterSection = newSection('reloadSoakMaster', `${options.soakReloads} reloads back to back under keep-alive load (wrk -t1 -c${options.connections}), the master: RSS at the end over RSS after the ${BASELINE_AFTER}th reload`, 'RSS end/start', 'lower');
  const workerSection = newSection('reloadSoakWorker', `the same run, the worker (reloads in place keep one): RSS at the end over RSS after the ${BASELINE_AFTER}th reload`, 'RSS end/start', 'lower');
  for (const s of [masterSection, workerSection]) {
    s.compare = false;
    s.digits = 3;
  }
  const wrk = which('wrk');
  if (wrk === null) {
    masterSection.notes.push('reload-soak needs wrk: not measured');
    return [masterSection, workerSection];
  }
  const backendPort = await freePort();
  const backend = startNodeHelper('backend', benchScript('backend'), [backendPort]);
  await waitForPort(backendPort, backend);
  const socket = { path: '' };
  const launched = await launch(settings, 'ferry', backendPort, (port, bp, level) => {
    const text = proxyConfig('http')(port, bp, level);
    socket.path = (JSON.parse(text) as { global: { masterSocket: string } }).global.masterSocket;
    return text;
  });
  const ferry = reloadable('ferry', launched, async () => 0);
  const load = startProc('wrk', wrk, ['-t1', `-c${options.connections}`, `-d${WRK_CEILING_S}s`, '--timeout', '2s', `http://127.0.0.1:${launched.port}/`]);
  const output: string[] = [];
  load.lines.on('line', (line: string) => output.push(line));
  try {
    await sleep(WARMUP_MS);
    let start: Point | undefined;
    for (let n = 1; n <= options.soakReloads; n++) {
      await reloadOnce(socket.path, n);
      if (n === BASELINE_AFTER) {
        await sleep(SETTLE_MS);
        start = await pointOf(launched.master.pid, launched.worker, socket.path);
      }
      if (n % 100 === 0) progress(`  reload-soak: ${n} of ${options.soakReloads} reloads`);
    }
    await sleep(SETTLE_MS);
    const end = await pointOf(launched.master.pid, launched.worker, socket.path);
    load.child.kill('SIGINT');
    await load.exited;
    const result = parseWrk(output.join('\n'));
    record(masterSection, workerSection, start!, end);
    addTotal(masterSection, 'failedRequests', 'ferry', result.errors);
    addTotal(masterSection, 'fdGrowth', 'ferry', end.masterFds - start!.masterFds);
    if (result.errors > 0) masterSection.notes.push(`ferry: ${result.errors} failed (${result.errorDetail})`);
    progress(`  reload-soak: ${result.requests} requests, ${result.errors} failed; master fds ${start!.masterFds} -> ${end.masterFds}`);
  } finally {
    await stopProc(load, 1000);
    await ferry.stop();
    await stopProc(backend);
  }
  return [masterSection, workerSection];
}

function record(master: Section, worker: Section, start: Point, end: Point): void {
  addSample(master, 'ferry', end.masterRss / start.masterRss);
  addFigure(master, 'RSS after 10, MB', 'ferry', start.masterRss / MB, 1);
  addFigure(master, 'RSS at end, MB', 'ferry', end.masterRss / MB, 1);
  addFigure(master, 'fds after 10', 'ferry', start.masterFds, 0);
  addFigure(master, 'fds at end', 'ferry', end.masterFds, 0);
  addSample(worker, 'ferry', end.workerRss / start.workerRss);
  addFigure(worker, 'RSS after 10, MB', 'ferry', start.workerRss / MB, 1);
  addFigure(worker, 'RSS at end, MB', 'ferry', end.workerRss / MB, 1);
  addFigure(worker, 'heap after 10, MB', 'ferry', start.workerHeap / MB, 1);
  addFigure(worker, 'heap at end, MB', 'ferry', end.workerHeap / MB, 1);
}
