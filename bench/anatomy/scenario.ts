// One run of ferry (HTTP mode, one group, one thread, log level warn, pinned to the proxy CPU as in
// the bench) with the probe preloaded into its workers and the sampler on its process tree, through
// a few reloads (SIGHUP) spaced so that each one's effects are over before the next:
//   load: wrk's keep-alive load from the bench's CPU, counting responses per 100 ms;
//   idle: `connections` keep-alive connections that sent one request each and wait (0: none).

import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch, proxyConfig, type FerrySettings } from '../contenders/ferry';
import type { Timeline, TimelineLoad } from '../load/wrk-timeline';
import { Brood } from '../lib/brood';
import { benchDir } from '../lib/paths';
import { stopProc } from '../lib/proc';
import { tempPath, writeTempFile } from '../lib/temp';
import { IdleClients } from './idle-clients';
import { readProbe, type WorkerLife } from './probe-log';
import { CpuSampler, type Sample } from './sampler';

/** Load (or quiet) before the first reload: the steady reference of the first. */
export const LEAD_MS = 2000;
const TAIL_MS = 3000;
const WARMUP_S = 1;

export type Scenario = { readonly kind: 'load'; readonly load: TimelineLoad } | { readonly kind: 'idle'; readonly connections: number };

export interface ScenarioRun {
  readonly scenario: Scenario;
  /** CLOCK_MONOTONIC (ns) of each SIGHUP. */
  readonly reloads: readonly number[];
  readonly spacingMs: number;
  readonly samples: readonly Sample[];
  readonly lives: readonly WorkerLife[];
  readonly timeline: Timeline | null;
  /** idle: the connections that still answered a request after the reloads. */
  readonly answered: number | null;
  readonly failed: number;
}

function probeEnv(file: string): NodeJS.ProcessEnv {
  const probe = path.join(benchDir, 'anatomy', 'probe.js');
  const options = [process.env['NODE_OPTIONS'] ?? '', `--require ${probe}`].join(' ').trim();
  return { ...process.env, NODE_OPTIONS: options, FERRY_PROBE_OUT: file };
}

/**
 * A ferry CLI whose workers run with extra Node/V8 flags (an experiment: --always-sparkplug, a
 * larger young generation …): node:cluster forks workers with the master's process.execArgv.
 */
function withWorkerFlags(cli: string, flags: readonly string[]): string {
  if (flags.length === 0) return cli;
  return writeTempFile('ferry-worker-flags.js', `process.execArgv.push(...${JSON.stringify(flags)});\nrequire(${JSON.stringify(cli)});\n`);
}

async function reloadEvery(masterPid: number, brood: Brood, count: number, spacingMs: number): Promise<number[]> {
  const start = Date.now();
  const reloads: number[] = [];
  for (let i = 0; i < count; i += 1) {
    await sleep(Math.max(0, start + LEAD_MS + i * spacingMs - Date.now()));
    reloads.push(Number(process.hrtime.bigint()));
    process.kill(masterPid, 'SIGHUP');
    brood.adopt();
  }
  return reloads;
}

export async function runScenario(ferry: FerrySettings, backendPort: number, cpu: number, scenario: Scenario, count: number, spacingMs: number, workerFlags: readonly string[] = []): Promise<ScenarioRun> {
  const file = tempPath('probe.jsonl');
  const settings = { cli: withWorkerFlags(ferry.cli, workerFlags), logLevel: 'warn' };
  const { master, port } = await launch(settings, 'ferry', backendPort, proxyConfig('http'), probeEnv(file));
  const brood = new Brood(master.pid);
  brood.adopt();
  let clients: IdleClients | null = null;
  try {
    if (scenario.kind === 'load') await scenario.load.run(port, WARMUP_S);
    else if (scenario.connections > 0) clients = await IdleClients.open(port, scenario.connections);
    const sampler = new CpuSampler(master.pid, cpu);
    sampler.start();
    const durationMs = LEAD_MS + (count - 1) * spacingMs + TAIL_MS;
    const loading = scenario.kind === 'load' ? scenario.load.run(port, durationMs / 1000) : sleep(durationMs).then(() => null);
    const reloads = await reloadEvery(master.pid, brood, count, spacingMs);
    const loaded = await loading;
    const samples = sampler.stop();
    const answered = clients === null ? null : await clients.ask();
    return {
      scenario,
      reloads,
      spacingMs,
      samples,
      lives: readProbe(file),
      timeline: loaded?.timeline ?? null,
      answered,
      failed: loaded?.result.errors ?? 0,
    };
  } finally {
    clients?.close();
    brood.adopt();
    await stopProc(master, 5000);
    brood.killSurvivors();
  }
}
