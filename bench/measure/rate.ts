// L4 request rate: many small keep-alive request/response pairs, which is
// where per-read overhead in a proxy shows up.

import { withContender } from '../contenders/with-contender';
import type { Entry } from '../contenders/registry';
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

function rateTrial(entry: Entry, backendPort: number, load: LoadGenerator, durationS: number, notes: string[]): Promise<Trial> {
  return withContender(entry, backendPort, async (contender) => {
    // JIT and buffer pools warm before the clock starts.
    await load.run(contender.port, WARMUP_S);
    return meterContender(contender, async () => {
      const result = await load.run(contender.port, durationS);
      if (result.errors > 0) notes.push(`${entry.name}: ${result.errors} socket errors or non-2xx responses in one round`);
      return { value: result.requestsPerSecond, work: result.requests };
    });
  });
}

export async function measureRate(entries: readonly Entry[], options: Options, load: LoadGenerator): Promise<Section> {
  const title = `request rate (${load.describe}, ${options.durationS} s per round)`;
  const section = newSection('rate', title, 'req/s', 'higher', 'cpu µs/req');
  const port = await freePort();
  const backend = startNodeHelper('backend', benchScript('backend'), [port]);
  try {
    await waitForPort(port, backend);
    const rounds = await alternate(entries, roundPolicy(options),
      (entry) => rateTrial(entry, port, load, options.durationS, section.notes),
      (value) => `${Math.round(value)} req/s`);
    absorbRounds(section, rounds, 1e6);
  } finally {
    await stopProc(backend);
  }
  return section;
}
