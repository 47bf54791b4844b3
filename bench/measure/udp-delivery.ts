// UDP datagrams/s through ferry with 2 groups × 2 threads against 1 × 1, and the share of datagrams
// redispatched between threads (the `redispatched` counter of `show stat`): with each flow's own
// socket connected to its client, the kernel delivers a flow's datagrams to its owner thread.
// Rounds alternate the two shapes; the medians are compared (floor: 2 × 2 ≥ 1.0 × 1 × 1).

import { sendCommand } from '../../src/control/client';
import { udpLoad } from '../load/udp-load';
import { freeUdpPort } from '../lib/free-port';
import { benchScript } from '../lib/paths';
import { startNodeHelper, stopProc } from '../lib/proc';
import { waitForUdp } from '../lib/wait-udp';
import { addFigure, addSample, newSection, type Section } from '../report/section';
import { startFerryAt } from './bench-ferry';

const FLOWS = 40;
const MAX_DATAGRAMS = 5_000_000;
const SHAPES = [['1x1', 1, 1], ['2x2', 2, 2]] as const;

interface Round {
  perSecond: number;
  redispatchedShare: number;
}

async function round(groups: number, threads: number, backend: number, seconds: number): Promise<Round> {
  const port = await freeUdpPort();
  const ferry = await startFerryAt(() => ({
    global: { groups, threads },
    frontends: { dns: { mode: 'udp', bind: [`udp@127.0.0.1:${port}`], backend: 'app' } },
    backends: { app: { servers: { echo: { address: `127.0.0.1:${backend}` } } } },
  }), port);
  try {
    await udpLoad(port, FLOWS, 1, MAX_DATAGRAMS);
    const result = await udpLoad(port, FLOWS, seconds, MAX_DATAGRAMS);
    const stat = (await sendCommand(ferry.control, 'show stat')).data as { frontends: { name: string; datagrams?: { in: number; redispatched: number } }[] };
    const d = stat.frontends.find((f) => f.name === 'dns')!.datagrams!;
    return { perSecond: result.replies / result.seconds, redispatchedShare: d.redispatched / d.in };
  } finally {
    await ferry.stop();
  }
}

export async function measureUdpDelivery(rounds = 5, seconds = 3): Promise<Section> {
  const section = newSection('udpDelivery', `UDP delivery to the flow's owner (${FLOWS} flows, ${seconds} s per round): 2 groups × 2 threads against 1 × 1`, 'dgram/s', 'higher');
  section.compare = false;
  const backend = await freeUdpPort();
  const echo = startNodeHelper('udp-echo', benchScript('udp-echo'), [backend]);
  try {
    await waitForUdp(backend, echo);
    for (let r = 0; r < rounds; r++) {
      for (const [name, groups, threads] of r % 2 === 0 ? SHAPES : [...SHAPES].reverse()) {
        const result = await round(groups, threads, backend, seconds);
        addSample(section, name, result.perSecond);
        addFigure(section, 'redispatched share', name, result.redispatchedShare, 3);
      }
    }
  } finally {
    await stopProc(echo);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [one, four] = [median(section.samples.get('1x1')!), median(section.samples.get('2x2')!)];
  section.notes.push(`2x2 ÷ 1x1 = ${(four / one).toFixed(2)} (medians ${Math.round(four)} and ${Math.round(one)} dgram/s); redispatched share 2x2: ${median(section.figures.get('redispatched share')!.values.get('2x2')!).toFixed(3)}`);
  return section;
}

if (require.main === module) {
  void measureUdpDelivery().then((s) => console.log(s.notes.join('\n')));
}
