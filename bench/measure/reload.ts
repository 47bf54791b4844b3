// Requests through a proxy that reloads every second under keep-alive load.
// A hitless reload fails no request and barely dents the rate; a proxy that
// drops or stalls connections shows it as socket errors and timeouts.

import { setTimeout as sleep } from 'node:timers/promises';
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
const SETTLE_MS = 5000;

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

async function deliver(contender: ReloadableContender, notes: string[]): Promise<number> {
  try {
    await contender.reload();
    return 1;
  } catch (err) {
    notes.push(`${contender.name}: a reload could not be asked for: ${message(err)}`);
    return 0;
  }
}

/** On a fixed clock, so a slow answer to one reload does not push the others back. */
async function reloadOnSchedule(contender: ReloadableContender, signal: AbortSignal, notes: string[]): Promise<number> {
  const started = Date.now();
  let sent = 0;
  for (let i = 1; i <= RELOADS_PER_ROUND; i += 1) {
    try {
      await sleep(Math.max(0, started + i * INTERVAL_MS - Date.now()), undefined, { signal });
    } catch {
      break;
    }
    sent += await deliver(contender, notes);
  }
  return sent;
}

/** The last reload may still be starting its workers when the load ends. */
async function settledReloads(contender: ReloadableContender, before: number, sent: number): Promise<number> {
  const deadline = Date.now() + SETTLE_MS;
  let done = (await contender.reloadsDone()) - before;
  while (done < sent && Date.now() < deadline) {
    await sleep(100);
    done = (await contender.reloadsDone()) - before;
  }
  return done;
}

async function loadWhileReloading(contender: ReloadableContender, load: LoadGenerator, section: Section): Promise<Trial> {
  const before = await contender.reloadsDone();
  const noiseOf = startNoiseMeter();
  const ticker = new AbortController();
  const reloads = reloadOnSchedule(contender, ticker.signal, section.notes);
  const result = await load.run(contender.port, DURATION_S).finally(() => ticker.abort());
  const sent = await reloads;
  const noise = noiseOf();
  const done = await settledReloads(contender, before, sent);
  addTotal(section, 'failedRequests', contender.name, result.errors);
  addTotal(section, 'reloadsDone', contender.name, done);
  addTotal(section, 'reloadsSent', contender.name, sent);
  progress(`    ${contender.name}: ${done} of ${sent} reloads done, ${result.errors} failed (${result.errorDetail})`);
  if (result.errors > 0) section.notes.push(`${contender.name}: ${result.errors} failed in one round (${result.errorDetail})`);
  return { value: result.requestsPerSecond, cost: Number.NaN, noise };
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
