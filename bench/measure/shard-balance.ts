// How evenly the threads of one worker accept new connections: 1 group × 4 threads, 800 connections
// from distinct source ports, with one shared socket and with shards "by-thread". Each thread's
// accepted count comes from `show listeners`; the floor is every thread within 0.6–1.5 × the mean.

import { connect } from 'node:net';
import { sendCommand } from '../../src/control/client';
import { startFerryAt, type BenchFerry } from './bench-ferry';
import { addFigure, newSection, type Section } from '../report/section';

const CONNECTIONS = 800;
/** At most this many connections open at once: the load stays bounded. */
const IN_FLIGHT = 40;
const THREADS = 4;

async function connectOnce(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('data', () => s.end());
    s.once('close', () => resolve());
    s.once('error', reject);
  });
}

/** Each thread's accepted, in thread order, after CONNECTIONS connections to the hello service. */
async function acceptedPerThread(shards: string | number): Promise<number[]> {
  const ferry: BenchFerry = await startFerryAt((port) => ({
    global: { groups: 1, threads: THREADS },
    frontends: { web: { bind: [{ address: `127.0.0.1:${port}`, shards }], backend: 'app' } },
    backends: { app: { service: 'hello' } },
  }));
  try {
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < CONNECTIONS) await connectOnce(ferry.port);
    }));
    const [listener] = (await sendCommand(ferry.control, 'show listeners')).data as { threads: { thread: number; accepted: number }[] }[];
    return listener.threads.sort((a, b) => a.thread - b.thread).map((t) => t.accepted);
  } finally {
    await ferry.stop();
  }
}

/** Per thread, accepted ÷ the mean. */
export function ratios(accepted: readonly number[]): number[] {
  const mean = accepted.reduce((a, b) => a + b, 0) / accepted.length;
  return accepted.map((n) => n / mean);
}

export async function measureShardBalance(): Promise<Section> {
  const section = newSection('shards', `Accept balance, 1 group × ${THREADS} threads, ${CONNECTIONS} connections: per thread accepted ÷ mean (floor: 0.6–1.5 with shards)`, 'min ratio', 'higher');
  section.compare = false;
  for (const [name, shards] of [['shared queue', 1], ['by-thread', 'by-thread']] as const) {
    const accepted = await acceptedPerThread(shards);
    const r = ratios(accepted);
    section.samples.set(name, [Math.min(...r)]);
    addFigure(section, 'max ratio', name, Math.max(...r), 2);
    section.notes.push(`${name}: accepted per thread ${accepted.join(' / ')} (ratios ${r.map((x) => x.toFixed(2)).join(' / ')})`);
  }
  return section;
}

if (require.main === module) {
  void measureShardBalance().then((s) => console.log(s.notes.join('\n')));
}
