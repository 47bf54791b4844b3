// UDP datagrams per second: small request/reply exchanges over several
// concurrent flows, through ferry (1 and 2 groups) and a plain Node dgram
// relay, to bench/udp-echo.ts. Each trial is bounded in time and in count.

import type { UdpEntry } from '../contenders/udp';
import { udpLoad } from '../load/udp-load';
import { freeUdpPort } from '../lib/free-port';
import { roundPolicy, type Options } from '../lib/options';
import { benchScript } from '../lib/paths';
import { startNodeHelper, stopProc } from '../lib/proc';
import { alternate } from '../lib/rounds';
import { meter, type Trial } from '../lib/trial';
import { waitForUdp } from '../lib/wait-udp';
import { absorbRounds, addTotal, newSection, type Section } from '../report/section';

const WARMUP_S = 1;
/** Far above what one core relays in a round here; only a runaway round reaches it. */
const MAX_DATAGRAMS = 5_000_000;

async function udpTrial(entry: UdpEntry, backendPort: number, options: Options, section: Section): Promise<Trial> {
  const contender = await entry.start(backendPort);
  try {
    await udpLoad(contender.port, options.udpFlows, WARMUP_S, MAX_DATAGRAMS);
    return await meter(contender.dataPid, async () => {
      const result = await udpLoad(contender.port, options.udpFlows, options.durationS, MAX_DATAGRAMS);
      addTotal(section, 'lost', entry.name, result.lost);
      return { value: result.replies / result.seconds, work: result.replies };
    }, true);
  } finally {
    await contender.stop();
  }
}

export async function measureUdp(entries: readonly UdpEntry[], options: Options): Promise<Section> {
  const title = `UDP request/reply (${options.udpFlows} flows, 32-byte datagrams, ${options.durationS} s per round)`;
  const section = newSection('udp', title, 'dgram/s', 'higher', 'cpu µs/dgram');
  const port = await freeUdpPort();
  const backend = startNodeHelper('udp-echo', benchScript('udp-echo'), [port]);
  try {
    await waitForUdp(port, backend);
    const rounds = await alternate(entries, roundPolicy(options),
      (entry) => udpTrial(entry, port, options, section),
      (value) => `${Math.round(value)} dgram/s`);
    absorbRounds(section, rounds, 1e6);
  } finally {
    await stopProc(backend);
  }
  return section;
}
