// What a scrape of the stats service costs the master (issue 16): ferry with 2 groups × 2 threads,
// 20 HTTP frontends, 20 backends and 20 servers, and a stats frontend; `node dist/bench/scrape-cost.js
// [--scrapes N]` (200). It measures the master's CPU (utime+stime from /proc, 10 ms ticks) while
// idle, where only the poll of every worker each second runs; over N scrapes of /metrics and N of
// /stats.json one after the other (back to back, most scrapes of /metrics reuse the exposition the
// master keeps until the tally changes); and over 10 scrapes of /metrics a second apart, each a fresh
// exposition; each less the idle rate over the same time. Floor: a scrape under 20 ms of master CPU.
// Prints a line per figure and a JSON line. About 35 s.

import { get } from 'node:http';
import { installCleanup, runCleanup } from './lib/cleanup';
import { cpuTicks, TICKS_PER_SECOND } from './lib/cpu-time';
import { freePort } from './lib/free-port';
import { ferryCli } from './lib/paths';
import { startProc, stopProc } from './lib/proc';
import { tempPath, writeTempFile } from './lib/temp';
import { waitForPort } from './lib/wait-port';

const DEADLINE_MS = 3 * 60 * 1000;
const FLOOR_MS = 20;
const IDLE_MS = 5_000;
const SIZE = 20;
/** Scrapes a second apart. */
const FRESH = 10;

function fetchBody(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
    }).on('error', reject);
  });
}

async function config(stats: number): Promise<object> {
  const frontends: Record<string, object> = { stats: { bind: [`127.0.0.1:${stats}`], mode: 'http', backend: 'stats' } };
  const backends: Record<string, object> = { stats: { service: 'stats' } };
  for (let i = 0; i < SIZE; i++) {
    frontends[`web${i}`] = { bind: [`127.0.0.1:${await freePort()}`], mode: 'http', backend: `app${i}` };
    // Servers nobody reaches: a scrape's cost does not depend on traffic, only on how much there is to show.
    backends[`app${i}`] = { servers: { [`s${i}`]: { address: `127.0.0.1:${await freePort()}` } } };
  }
  return { global: { groups: 2, threads: 2, log: { level: 'warn' } }, frontends, backends };
}

/** The master's CPU over `run`, in ms. */
async function masterMs(pid: number, run: () => Promise<void>): Promise<{ cpuMs: number; wallMs: number }> {
  const before = cpuTicks(pid)!;
  const start = Date.now();
  await run();
  return { cpuMs: ((cpuTicks(pid)! - before) * 1000) / TICKS_PER_SECOND, wallMs: Date.now() - start };
}

async function main(): Promise<void> {
  installCleanup(DEADLINE_MS);
  const at = process.argv.indexOf('--scrapes');
  const scrapes = at === -1 ? 200 : Number(process.argv[at + 1]);
  const stats = await freePort();
  const file = writeTempFile('scrape-cost.json', JSON.stringify(await config(stats)));
  const ferry = startProc('ferry', process.execPath, [ferryCli, 'start', '-c', file, '--set', `global.masterSocket=${tempPath('master.sock')}`]);
  try {
    await waitForPort(stats, ferry, 20_000);
    // Every worker has reported once before measuring.
    await new Promise((r) => setTimeout(r, 2_000));
    const idle = await masterMs(ferry.child.pid!, () => new Promise((r) => setTimeout(r, IDLE_MS)));
    const idlePerMs = idle.cpuMs / idle.wallMs;
    console.log(`idle (the poll of 4 threads each second): ${(idlePerMs * 1000).toFixed(1)} ms of master CPU per second`);
    const results: Record<string, number> = { idleMsPerS: idlePerMs * 1000 };
    for (const path of ['/metrics', '/stats.json']) {
      let bytes = 0;
      const m = await masterMs(ferry.child.pid!, async () => {
        for (let i = 0; i < scrapes; i++) bytes = await fetchBody(stats, path);
      });
      const perScrape = (m.cpuMs - idlePerMs * m.wallMs) / scrapes;
      results[path] = perScrape;
      console.log(`${path}: ${perScrape.toFixed(2)} ms of master CPU per scrape (${scrapes} scrapes, ${bytes} bytes each) — ${perScrape < FLOOR_MS ? 'PASS' : 'FAIL'} (floor ${FLOOR_MS} ms)`);
    }
    // One scrape after each poll, as Prometheus scrapes: each builds the exposition afresh (the master
    // keeps one only until the tally changes).
    const fresh = await masterMs(ferry.child.pid!, async () => {
      for (let i = 0; i < FRESH; i++) {
        await fetchBody(stats, '/metrics');
        await new Promise((r) => setTimeout(r, 1_100));
      }
    });
    results.freshMetrics = (fresh.cpuMs - idlePerMs * fresh.wallMs) / FRESH;
    console.log(`/metrics once a second: ${results.freshMetrics.toFixed(2)} ms of master CPU per scrape (${FRESH} scrapes, each a fresh exposition) — ${results.freshMetrics < FLOOR_MS ? 'PASS' : 'FAIL'} (floor ${FLOOR_MS} ms)`);
    console.log(JSON.stringify({ scrapeCost: { scrapes, ...results } }));
  } finally {
    await stopProc(ferry);
    runCleanup();
  }
}

void main();
