// Resident memory of the processes that carry the tunnels (ferry's workers,
// one per group), idle and holding many idle tunnels, with two figures a
// user sizes a host by: RSS per worker at idle, and what 1,000 idle tunnels
// add (holding minus idle, over the tunnels). memory-http does the same in HTTP mode with idle
// keep-alive client connections, each after one request. Each round starts a fresh proxy: a process reused after
// earlier rounds would report its high-water mark, not its cost now. RSS
// barely moves between rounds, so fewer rounds than for speed suffice.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender } from '../contenders/contender';
import type { HttpLineup } from '../contenders/http';
import type { Entry } from '../contenders/registry';
import { withStarted } from '../contenders/with-contender';
import { freePort } from '../lib/free-port';
import { request } from '../lib/ipc';
import type { Options } from '../lib/options';
import { benchScript } from '../lib/paths';
import { startNodeHelper, stopProc, type Proc } from '../lib/proc';
import { progress } from '../lib/progress';
import { sampleRssBytes } from '../lib/rss';
import { waitForPort } from '../lib/wait-port';
import { addFigure, addSample, newSection, type Section } from '../report/section';

const MiB = 1024 * 1024;
const WARMUP_TUNNELS = 500;
const SETTLE_MS = 1000;
const OPEN_TIMEOUT_MS = 120_000;

export interface MemorySections {
  idle: Section;
  tunnels: Section;
}

async function cycleTunnels(holder: Proc, port: number, count: number, batch: number): Promise<void> {
  await request(holder, { cmd: 'open', port, count, batch }, OPEN_TIMEOUT_MS);
  await request(holder, { cmd: 'close' }, 30_000);
}

/** Summed over the contender's workers. */
async function sampleWorkersRss(contender: Contender): Promise<number> {
  let sum = 0;
  for (const pid of contender.workers ?? [contender.dataPid]) sum += await sampleRssBytes(pid);
  return sum;
}

/** A proxy that the memory measure starts afresh for each round. */
interface Subject {
  readonly name: string;
  start(backendPort: number, backendPid: number): Promise<Contender>;
}

async function measureOne(contender: Contender, holder: Proc, options: Options, http: boolean): Promise<[number, number, number, number]> {
  // Warm-up first: idle after real use is what a long-running proxy sits at.
  await cycleTunnels(holder, contender.port, WARMUP_TUNNELS, options.batch);
  await sleep(SETTLE_MS);
  const idle = await sampleWorkersRss(contender);
  const opened = await request(holder, { cmd: 'open', port: contender.port, count: options.tunnels, batch: options.batch }, OPEN_TIMEOUT_MS);
  await sleep(SETTLE_MS);
  const loaded = await sampleWorkersRss(contender);
  const closed = await request(holder, { cmd: 'close' }, 30_000);
  // In HTTP mode the proxies keep idle server connections for reuse after their clients have gone.
  if (closed['lingering'] !== 0 && !http) progress(`  ${contender.name}: ${String(closed['lingering'])} backend sockets still open 5 s after clients closed`);
  return [idle, loaded, Number(opened['ms']), contender.workers?.length ?? 1];
}

async function round(subject: Subject, options: Options, sections: MemorySections, http: boolean): Promise<void> {
  const backendPort = await freePort();
  const holder = startNodeHelper('holder', benchScript('holder'), [backendPort, ...(http ? ['http'] : [])]);
  try {
    await waitForPort(backendPort, holder);
    const [idle, loaded, ms, workers] = await withStarted(subject.start(backendPort, holder.pid), (contender) => measureOne(contender, holder, options, http));
    const per = http ? 'MiB per 1,000 connections' : 'MiB per 1,000 tunnels';
    addSample(sections.idle, subject.name, idle / MiB);
    addFigure(sections.idle, 'MiB per worker', subject.name, idle / MiB / workers, 1);
    addSample(sections.tunnels, subject.name, loaded / MiB);
    addFigure(sections.tunnels, per, subject.name, ((loaded - idle) / MiB / options.tunnels) * 1000, 2);
    progress(`  ${subject.name.padEnd(10)} idle ${(idle / MiB).toFixed(1)} MiB, ${options.tunnels} ${http ? 'connections' : 'tunnels'} ${(loaded / MiB).toFixed(1)} MiB (opened in ${ms} ms)`);
  } finally {
    await stopProc(holder);
  }
}

async function rounds(subjects: readonly Subject[], options: Options, sections: MemorySections, http: boolean): Promise<MemorySections> {
  for (let r = 1; r <= options.memoryRounds; r += 1) {
    progress(`memory${http ? '-http' : ''}: round ${r}/${options.memoryRounds}`);
    for (const subject of subjects) await round(subject, options, sections, http);
  }
  return sections;
}

export function measureMemory(entries: readonly Entry[], options: Options): Promise<MemorySections> {
  const subjects = entries.map((e) => ({ name: e.name, start: (port: number) => e.kind.start(e.name, port) }));
  return rounds(subjects, options, {
    idle: newSection('memoryIdle', 'RSS idle, after a warm-up of 500 tunnels', 'MiB', 'lower'),
    tunnels: newSection('memoryTunnels', `RSS holding ${options.tunnels} idle tunnels`, 'MiB', 'lower'),
  }, false);
}

/** HTTP mode: the http line-up's proxies (not http-proxy and direct, which are the rate's yardsticks). */
export function measureHttpMemory(lineup: HttpLineup, options: Options): Promise<MemorySections> {
  const subjects = lineup.entries.filter((e) => e.name !== 'http-proxy' && e.name !== 'direct');
  return rounds(subjects, options, {
    idle: newSection('memoryHttpIdle', 'RSS idle in HTTP mode, after a warm-up of 500 keep-alive connections', 'MiB', 'lower'),
    tunnels: newSection('memoryHttp', `RSS holding ${options.tunnels} idle keep-alive HTTP connections (one request each)`, 'MiB', 'lower'),
  }, true);
}
