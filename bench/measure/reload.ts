// Requests through a proxy that reloads every second under keep-alive load.
// A hitless reload fails no request and barely dents the rate; a proxy that
// drops or stalls connections shows it as socket errors and timeouts.

import type { ReloadableContender } from '../contenders/contender';
import type { Entry } from '../contenders/registry';
import { withReloadable } from '../contenders/with-contender';
import { chooseLoad } from '../load/choose';
import type { LoadGenerator } from '../load/load';
import { startNoiseMeter } from '../lib/cpu-noise';
import { freePort } from '../lib/free-port';
import type { Options } from '../lib/options';
import { benchScript } from '../lib/paths';
import { startNodeHelper, stopProc } from '../lib/proc';
import { progress } from '../lib/progress';
import { reloadOnSchedule, settledReloads } from '../lib/reload-schedule';
import { alternate, type RoundResults } from '../lib/rounds';
import type { Trial } from '../lib/trial';
import { waitForPort } from '../lib/wait-port';
import { addTotal, newSection, type Section } from '../report/section';

const CONNECTIONS = 20;
const DURATION_S = 10;
const INTERVAL_MS = 1000;
// Reloads at 1 s … 9 s, so the last one has a second to finish under load.
const RELOADS_PER_ROUND = DURATION_S * 1000 / INTERVAL_MS - 1;
// A request held this long by a reload counts as failed, not merely slow.
const TIMEOUT_S = 2;
const WARMUP_S = 1;

async function loadWhileReloading(contender: ReloadableContender, load: LoadGenerator, section: Section): Promise<Trial> {
  const before = await contender.reloadsDone();
  const noiseOf = startNoiseMeter();
  const ticker = new AbortController();
  const reloads = reloadOnSchedule(contender, RELOADS_PER_ROUND, INTERVAL_MS, ticker.signal, section.notes);
  const result = await load.run(contender.port, DURATION_S).finally(() => ticker.abort());
  const sent = await reloads;
  const noise = noiseOf();
  const done = await settledReloads(contender, before, sent);
  addTotal(section, 'failedRequests', contender.name, result.errors);
  addTotal(section, 'reloadsDone', contender.name, done);
  addTotal(section, 'reloadsSent', contender.name, sent);
  progress(`    ${contender.name}: ${done} of ${sent} reloads done, ${result.errors} failed (${result.errorDetail})`);
  if (result.errors > 0) section.notes.push(`${contender.name}: ${result.errors} failed in one round (${result.errorDetail})`);
  return { value: result.requestsPerSecond, cost: Number.NaN, userCost: Number.NaN, noise };
}

function reloadTrial(entry: Entry, backendPort: number, load: LoadGenerator, section: Section): Promise<Trial> {
  return withReloadable(entry, backendPort, async (contender) => {
    await load.run(contender.port, WARMUP_S);
    return loadWhileReloading(contender, load, section);
  });
}

/** No CPU cost column: the worker that would be charged changes every second. */
function absorb(section: Section, rounds: RoundResults): void {
  for (const [name, values] of rounds.samples) section.samples.set(name, values);
  section.noise.push(...rounds.noise);
}

export async function measureReload(entries: readonly Entry[], options: Options): Promise<Section> {
  const load = chooseLoad(options.load, CONNECTIONS, TIMEOUT_S);
  const title = `requests during reloads (${load.describe}, ${DURATION_S} s per round, a reload every ${INTERVAL_MS / 1000} s)`;
  const section = newSection('reload', title, 'req/s', 'higher');
  for (const entry of entries) {
    if (entry.kind.startReloadable === undefined) section.notes.push(`skipping ${entry.name}: the ${entry.kind.kind} proxy cannot reload`);
  }
  const reloadable = entries.filter((entry) => entry.kind.startReloadable !== undefined);
  if (reloadable.length === 0) return section;
  const port = await freePort();
  const backend = startNodeHelper('backend', benchScript('backend'), [port]);
  try {
    await waitForPort(port, backend);
    progress('reload:');
    // Never repeated for noise: a repeat would throw away the failures of the round it replaces.
    const policy = { rounds: options.reloadRounds, maxNoise: options.maxNoise, retries: 0 };
    const rounds = await alternate(reloadable, policy,
      (entry) => reloadTrial(entry, port, load, section),
      (value) => `${Math.round(value)} req/s`);
    absorb(section, rounds);
  } finally {
    await stopProc(backend);
  }
  return section;
}
