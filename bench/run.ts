// Entry point of `npm run bench`: ferry against a plain Node pipe proxy (and
// haproxy when installed) on request rate, bulk throughput, memory and
// requests failed during reloads, against a plain Node dgram relay on UDP
// datagrams per second, and against node-http-proxy and haproxy on HTTP
// keep-alive requests per second, with medians over interleaved rounds and
// ratios that cancel the box's speed; on request (--only reload-storm), the
// throughput ferry and haproxy keep while reloading every second, and (--only reload-soak) what
// 1,000 reloads back to back leave in ferry's memory and fds, and (--only scale) ferry against
// haproxy with 1, 2, 4 ... workers.

import os from 'node:os';
import { lineup, type Entry } from './contenders/registry';
import type { FerrySettings } from './contenders/ferry';
import { httpLineup, type HttpLineup } from './contenders/http';
import { udpLineup, type UdpEntry } from './contenders/udp';
import { chooseLoad } from './load/choose';
import { chooseHttpLoad } from './load/choose-http';
import type { LoadGenerator } from './load/load';
import { setupAffinity } from './lib/affinity';
import { installCleanup, runCleanup } from './lib/cleanup';
import { parseOptions, USAGE, type Options } from './lib/options';
import { progress } from './lib/progress';
import { measureBulk } from './measure/bulk';
import { measureHttp } from './measure/http';
import { measureHttpMemory, measureMemory } from './measure/memory';
import { measureRate } from './measure/rate';
import { measureReload } from './measure/reload';
import { measureReloadSoak, soakBudgetS } from './measure/reload-soak';
import { measureReloadStorm, stormBudgetS } from './measure/reload-storm';
import { measureScale, proxyCoresWanted } from './measure/scale';
import { measureUdp } from './measure/udp';
import { measureShardBalance } from './measure/shard-balance';
import { measureUdpDelivery } from './measure/udp-delivery';
import { chooseComparison } from './report/compare';
import { checkFloors } from './report/floors';
import { printReport } from './report/print';
import type { Section } from './report/section';
import { summaryLine } from './report/summary';

const DEADLINE_MS = 15 * 60 * 1000;

/** The deadline of a default run, plus what reload-storm and reload-soak need when asked for. */
function deadlineMs(options: Options): number {
  const storm = options.only.includes('reload-storm') ? stormBudgetS(options) : 0;
  const soak = options.only.includes('reload-soak') ? soakBudgetS(options) : 0;
  return DEADLINE_MS + (storm + soak) * 1000;
}

interface HttpPlan {
  readonly lineup: HttpLineup;
  readonly load: LoadGenerator;
}

async function measureAll(options: Options, entries: readonly Entry[], udpEntries: readonly UdpEntry[], load: LoadGenerator | null, http: HttpPlan | null, ferry: FerrySettings): Promise<Section[]> {
  const sections: Section[] = [];
  if (load !== null) sections.push(await measureRate(entries, options, load));
  if (options.only.includes('bulk')) sections.push(await measureBulk(entries, options));
  if (options.only.includes('memory')) {
    const memory = await measureMemory(entries, options);
    sections.push(memory.idle, memory.tunnels);
  }
  if (options.only.includes('reload')) sections.push(await measureReload(entries, options));
  if (options.only.includes('udp') && udpEntries.length > 0) sections.push(await measureUdp(udpEntries, options));
  if (http !== null && options.only.includes('http')) sections.push(await measureHttp(http.lineup, options, http.load));
  if (http !== null && options.only.includes('memory-http')) {
    const memory = await measureHttpMemory(http.lineup, options);
    sections.push(memory.idle, memory.tunnels);
  }
  if (options.only.includes('reload-storm')) sections.push(...await measureReloadStorm(options.contenders, entries.map((e) => e.kind.kind), ferry, options));
  if (options.only.includes('reload-soak')) sections.push(...await measureReloadSoak(ferry, options));
  // Issue 15: shards' accept balance and UDP delivery to the owner thread (only when asked for).
  if (options.only.includes('shards')) sections.push(await measureShardBalance(), await measureUdpDelivery());
  if (options.only.includes('scale')) sections.push(...await measureScale(options, ferry));
  return sections;
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const options = parseOptions(process.argv.slice(2), process.env);
  installCleanup(deadlineMs(options));
  const pinning = setupAffinity(options.pin, proxyCoresWanted(options));
  const ferry = { cli: options.ferryCli, logLevel: options.ferryLog, base: options.ferryBase, groups: options.groups, threads: options.threads };
  const { entries, notes } = lineup(options.contenders, ferry);
  const available = entries.map((e) => e.kind.kind);
  const udp = options.only.includes('udp') ? udpLineup(options.contenders, available, ferry) : { entries: [], notes: [] };
  const http = options.only.includes('http') || options.only.includes('memory-http')
    ? { lineup: httpLineup(options.contenders, available, ferry, options.httpFerryMode), load: chooseHttpLoad(options.httpLoad, options.connections, options.httpDepth) }
    : null;
  for (const note of [...notes, ...udp.notes, ...(http?.lineup.notes ?? [])]) console.log(`note: ${note}`);
  if (entries.length === 0) throw new Error('no contender can run');
  progress(`bench: ${entries.map((e) => e.name).join(', ')} | ${options.rounds} rounds | node ${process.version} | ${os.cpus().length} cpus | ferry ${options.groups} group(s) x ${options.threads} thread(s), haproxy nbthread ${options.groups * options.threads} | ${pinning}`);
  const load = options.only.includes('rate') ? chooseLoad(options.load, options.connections) : null;
  const sections = await measureAll(options, entries, udp.entries, load, http, ferry);
  const comparison = chooseComparison(entries.map((e) => e.name));
  const floors = checkFloors(sections, comparison);
  printReport(sections, comparison, floors);
  console.log(summaryLine(sections, comparison, floors, { rounds: options.rounds, memoryRounds: options.memoryRounds, reloadRounds: options.reloadRounds, stormRounds: options.stormRounds, durationS: options.durationS, groups: options.groups, threads: options.threads, load: load?.describe ?? 'none', httpLoad: http?.load.describe ?? 'none', pinning, skipped: notes }));
  return options.strict && floors.some((f) => f.pass === false) ? 2 : 0;
}

main().then(
  (code) => {
    runCleanup();
    process.exit(code);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    runCleanup();
    process.exit(1);
  },
);
