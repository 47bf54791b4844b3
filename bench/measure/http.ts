// HTTP/1.1 keep-alive request rate with a small response: ferry's HTTP mode
// against node-http-proxy, haproxy in http mode and the plain pipe proxy,
// each connection with `--http-depth` requests in flight, to bench/backend.ts
// (a raw keep-alive responder: node:http as the backend served 2.6 times
// fewer requests per second here, and would have been the bottleneck).
// The direct row (no proxy) is the ceiling of load generator plus backend.

import type { HttpLineup, HttpEntry } from '../contenders/http';
import type { LoadGenerator } from '../load/load';
import { freePort } from '../lib/free-port';
import { roundPolicy, type Options } from '../lib/options';
import { benchScript } from '../lib/paths';
import { startNodeHelper, stopProc } from '../lib/proc';
import { alternate } from '../lib/rounds';
import { meterContender, type Trial } from '../lib/trial';
import { waitForPort } from '../lib/wait-port';
import { absorbRounds, newSection, type Section } from '../report/section';

const WARMUP_S = 1;

/** One trial of keep-alive load through a fresh contender, either mode (scale runs it for TCP mode too). */
export async function httpTrial(entry: HttpEntry, backendPort: number, backendPid: number, load: LoadGenerator, options: Options, section: Section): Promise<Trial> {
  const contender = await entry.start(backendPort, backendPid);
  try {
    // JIT, buffer pools and the proxies' server connections warm before the clock starts.
    await load.run(contender.port, WARMUP_S);
    return await meterContender(contender, async () => {
      const result = await load.run(contender.port, options.durationS);
      if (result.errors > 0) section.notes.push(`${entry.name}: ${result.errorDetail} in one round`);
      return { value: result.requestsPerSecond, work: result.requests };
    });
  } finally {
    await contender.stop();
  }
}

export async function measureHttp(lineup: HttpLineup, options: Options, load: LoadGenerator): Promise<Section> {
  const ferry = lineup.entries.some((e) => e.name === 'ferry') && options.httpFerryMode === 'tcp' ? ', ferry in tcp mode' : '';
  const title = `HTTP/1.1 keep-alive rate (${load.describe}, ${options.durationS} s per round${ferry})`;
  const section = newSection('http', title, 'req/s', 'higher', 'cpu µs/req');
  for (const [name, why] of lineup.unavailable) section.unavailable.set(name, why);
  if (ferry !== '') section.floorCaveat = 'ferry in tcp mode (--http-ferry-mode tcp), a byte relay: not the HTTP-mode floor';
  const port = await freePort();
  const backend = startNodeHelper('backend', benchScript('backend'), [port]);
  try {
    await waitForPort(port, backend);
    const rounds = await alternate(lineup.entries, roundPolicy(options),
      (entry) => httpTrial(entry, port, backend.pid, load, options, section),
      (value) => `${Math.round(value)} req/s`);
    absorbRounds(section, rounds, 1e6);
  } finally {
    await stopProc(backend);
  }
  return section;
}
