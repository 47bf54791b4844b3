// Whether scraping slows proxying (issue 16): ferry (1 group, 1 thread, pinned to the proxy CPU as
// the bench pins it) with an HTTP frontend to bench/backend.ts and a stats frontend; wrk's keep-alive
// rate on the HTTP frontend in alternating rounds without scrapers and with 50 scrapers, each
// GETting /metrics once a second (staggered), as 50 Prometheus servers would at a 1 s interval.
// `node dist/bench/scrape-load.js [--rounds N]` (3 each; 4 s a round). Prints both medians, their
// ratio and the scrapes done, and a JSON line. About 40 s; needs wrk.

import { get, Agent } from 'node:http';
import { setupAffinity } from './lib/affinity';
import { installCleanup, runCleanup } from './lib/cleanup';
import { freePort } from './lib/free-port';
import { benchScript, ferryCli } from './lib/paths';
import { startNodeHelper, startNodeProxy, stopProc } from './lib/proc';
import { median, ratio } from './lib/stats';
import { tempPath, writeTempFile } from './lib/temp';
import { waitForPort } from './lib/wait-port';
import { which } from './lib/which';
import { wrkGenerator } from './load/wrk';

const DEADLINE_MS = 3 * 60 * 1000;
const SCRAPERS = 50;
const ROUND_S = 4;

/** SCRAPERS loops, each a GET of /metrics a second, until stopped; the scrapes done and failed. */
function scrapers(port: number): { stop(): Promise<{ done: number; failed: number }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: SCRAPERS });
  let going = true;
  let done = 0;
  let failed = 0;
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      get({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) done++;
          else failed++;
          resolve();
        });
      }).on('error', () => {
        failed++;
        resolve();
      });
    });
  const loops = Array.from({ length: SCRAPERS }, async (_, i) => {
    await new Promise((r) => setTimeout(r, (i * 1000) / SCRAPERS));
    while (going) {
      const next = new Promise((r) => setTimeout(r, 1000));
      await once();
      await next;
    }
  });
  return {
    async stop() {
      going = false;
      await Promise.all(loops);
      agent.destroy();
      return { done, failed };
    },
  };
}

async function main(): Promise<void> {
  installCleanup(DEADLINE_MS);
  const wrk = which('wrk');
  if (wrk === null) throw new Error('scrape-load needs wrk (bench/install-tools.sh)');
  const at = process.argv.indexOf('--rounds');
  const rounds = at === -1 ? 3 : Number(process.argv[at + 1]);
  const pinning = setupAffinity(true);
  const [backendPort, web, stats] = [await freePort(), await freePort(), await freePort()];
  const backend = startNodeHelper('backend', benchScript('backend'), [backendPort]);
  const config = {
    global: { groups: 1, threads: 1, log: { level: 'warn' } },
    frontends: {
      web: { bind: [`127.0.0.1:${web}`], mode: 'http', backend: 'b', timeout: { client: '5m' } },
      stats: { bind: [`127.0.0.1:${stats}`], mode: 'http', backend: 'stats' },
    },
    backends: { b: { timeout: { server: '5m' }, servers: { s1: { address: `127.0.0.1:${backendPort}` } } }, stats: { service: 'stats' } },
  };
  const file = writeTempFile('scrape-load.json', JSON.stringify(config));
  const ferry = startNodeProxy('ferry', ferryCli, ['start', '-c', file, '--set', `global.masterSocket=${tempPath('master.sock')}`]);
  const load = wrkGenerator(wrk, 50, 10);
  const quiet: number[] = [];
  const scraped: number[] = [];
  let scrapes = { done: 0, failed: 0 };
  try {
    await waitForPort(backendPort, backend);
    await waitForPort(web, ferry, 20_000);
    await load.run(web, 1);
    for (let r = 0; r < rounds; r++) {
      quiet.push((await load.run(web, ROUND_S)).requestsPerSecond);
      const s = scrapers(stats);
      scraped.push((await load.run(web, ROUND_S)).requestsPerSecond);
      const { done, failed } = await s.stop();
      scrapes = { done: scrapes.done + done, failed: scrapes.failed + failed };
    }
    const result = { pinning, rounds, quiet: median(quiet), scraped: median(scraped), ratio: ratio(median(scraped), median(quiet)), scrapes, rawQuiet: quiet, rawScraped: scraped };
    console.log(`HTTP rate on another frontend: ${result.quiet.toFixed(0)} req/s without scrapers, ${result.scraped.toFixed(0)} with ${SCRAPERS} scrapers at 1/s (${result.ratio.toFixed(3)}); scrapes ${scrapes.done} done, ${scrapes.failed} failed`);
    console.log(JSON.stringify({ scrapeLoad: result }));
  } finally {
    await stopProc(ferry);
    await stopProc(backend);
    runCleanup();
  }
}

void main();
