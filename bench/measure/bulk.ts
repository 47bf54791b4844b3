// Bulk throughput: one connection pushing a large payload, which is where
// copies and buffer handling in a proxy show up.

import { withContender } from '../contenders/with-contender';
import type { Entry } from '../contenders/registry';
import { freePort } from '../lib/free-port';
import { roundPolicy, type Options } from '../lib/options';
import { benchScript } from '../lib/paths';
import { startNodeHelper, stopProc } from '../lib/proc';
import { alternate } from '../lib/rounds';
import { meterContender, type Trial } from '../lib/trial';
import { waitForPort } from '../lib/wait-port';
import { absorbRounds, newSection, type Section } from '../report/section';
import { transfer } from './bulk-transfer';

const MB = 1_000_000;
const WARMUP_BYTES = 32 * MB;

function bulkTrial(entry: Entry, sinkPort: number, bytes: number): Promise<Trial> {
  return withContender(entry, sinkPort, async (contender) => {
    await transfer(contender.port, WARMUP_BYTES);
    return meterContender(contender, async () => {
      const seconds = await transfer(contender.port, bytes);
      return { value: bytes / MB / seconds, work: bytes / MB };
    });
  });
}

export async function measureBulk(entries: readonly Entry[], options: Options): Promise<Section> {
  const bytes = Math.round(options.bulkMb * MB);
  const title = `bulk throughput (${options.bulkMb} MB one way, 1 connection)`;
  const section = newSection('bulk', title, 'MB/s', 'higher', 'cpu ms/GB');
  const port = await freePort();
  const sink = startNodeHelper('sink', benchScript('sink'), [port]);
  try {
    await waitForPort(port, sink);
    const rounds = await alternate(entries, roundPolicy(options),
      (entry) => bulkTrial(entry, port, bytes),
      (value) => `${value.toFixed(0)} MB/s`);
    absorbRounds(section, rounds, 1e6);
  } finally {
    await stopProc(sink);
  }
  return section;
}
