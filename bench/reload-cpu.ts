// Where a reload's CPU goes (issue 13), for ferry in HTTP mode, one group, one thread, pinned to the
// proxy CPU as the bench runs it: `node dist/bench/reload-cpu.js [--reloads N] [--runs N]
// [--only load] [--worker-flags "--always-sparkplug …"]` (the flags: an experiment on the workers).
//   1. Standalone, on the proxy CPU: Node's boot, and Node's boot plus ferry's worker modules, with
//      the modules' CPU by package (anatomy/boot-cost.ts).
//   2. Idle, with no connection and with 50 idle keep-alive connections; then under wrk's keep-alive
//      load (50 connections) `--runs` times: N reloads 3 s apart, each taken apart by
//      anatomy/reload-windows.ts from the probe in the workers (anatomy/probe.ts), the sampler on the
//      process tree and the proxy CPU (anatomy/sampler.ts) and wrk's responses per 100 ms.
// Prints the medians over all reloads of a scenario as one table, and a JSON line.

import { setupAffinity, proxyCpu } from './lib/affinity';
import { installCleanup, runCleanup } from './lib/cleanup';
import { freePort } from './lib/free-port';
import { benchScript, ferryCli } from './lib/paths';
import { startNodeHelper, stopProc } from './lib/proc';
import { progress } from './lib/progress';
import { median } from './lib/stats';
import { waitForPort } from './lib/wait-port';
import { which } from './lib/which';
import { bootCost, type BootCost } from './anatomy/boot-cost';
import { COLD_SLICES, PRE_MS, reloadParts, WINDOW_MS, type ReloadParts } from './anatomy/reload-windows';
import { runScenario, type Scenario } from './anatomy/scenario';
import { wrkTimeline } from './load/wrk-timeline';
import { formatTable } from './report/table';

const DEADLINE_MS = 10 * 60 * 1000;
const CONNECTIONS = 50;
const SPACING_MS = 3000;
const BOOT_RUNS = 5;

interface Column {
  readonly title: string;
  readonly parts: ReloadParts[];
  readonly notes: string[];
}

function text(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return undefined;
  if (i + 1 >= process.argv.length) throw new Error(`--${name} needs a value`);
  return process.argv[i + 1];
}

function flag(name: string, fallback: number): number {
  const given = text(name);
  const value = given === undefined ? fallback : Number(given);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a whole number > 0`);
  return value;
}

interface Plan {
  readonly runs: number;
  readonly reloads: number;
  readonly backendPort: number;
  readonly cpu: number;
  readonly workerFlags: readonly string[];
}

async function column(title: string, scenario: Scenario, plan: Plan, runs = plan.runs): Promise<Column> {
  const { reloads } = plan;
  const parts: ReloadParts[] = [];
  const notes: string[] = [];
  for (let run = 1; run <= runs; run += 1) {
    progress(`${title}: run ${run}/${runs}, ${reloads} reloads ${SPACING_MS / 1000} s apart`);
    const result = await runScenario({ cli: ferryCli, logLevel: 'warn' }, plan.backendPort, plan.cpu, scenario, reloads, SPACING_MS, plan.workerFlags);
    for (let i = 0; i < result.reloads.length; i += 1) {
      const found = reloadParts(result, i);
      if (found === null) notes.push(`run ${run}, reload ${i + 1}: the probe did not see both workers`);
      else parts.push(found);
    }
    if (result.failed > 0) notes.push(`run ${run}: ${result.failed} failed requests`);
    if (result.answered !== null && scenario.kind === 'idle') notes.push(`run ${run}: ${result.answered} of ${scenario.connections} idle connections answered after the reloads`);
  }
  return { title, parts, notes };
}

const fixed = (digits: number) => (v: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function row(label: string, columns: readonly Column[], pick: (p: ReloadParts) => number | undefined, digits = 1): string[] {
  return [label, ...columns.map((c) => {
    const values = c.parts.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return values.length === 0 ? '-' : fixed(digits)(median(values));
  })];
}

function coldRows(columns: readonly Column[]): string[][] {
  const rows: string[][] = [];
  for (let k = 0; k < COLD_SLICES; k += 1) {
    rows.push(row(`  ${k * 100}–${(k + 1) * 100} ms: req/s over steady`, columns, (p) => p.load?.coldShare[k], 2));
    rows.push(row(`  ${k * 100}–${(k + 1) * 100} ms: new worker's CPU/req over steady`, columns, (p) => p.load?.coldCost[k], 2));
    rows.push(row(`  ${k * 100}–${(k + 1) * 100} ms: its main thread's CPU/req over steady`, columns, (p) => p.load?.coldMainCost[k], 2));
  }
  return rows;
}

function table(columns: readonly Column[]): string {
  const perSession = (p: ReloadParts): number | undefined => (p.parts > 0 ? (p.handOverMs * 1000) / p.parts : undefined);
  const parts = (p: ReloadParts): number | undefined => (p.load === null ? undefined : p.startMs + p.handOverMs + p.masterMs + p.load.newExtraMs + p.load.oldExtraMs);
  const core = (p: ReloadParts): number | undefined => (p.load === null ? undefined : p.load.ferryExtraMs + p.load.irqExtraMs + p.load.idleExtraMs + p.load.othersExtraMs);
  const rows = [
    row('new worker, fork -> ready: CPU ms', columns, (p) => p.startMs),
    row('  Node boot (to the probe, before any ferry code)', columns, (p) => p.bootMs),
    row('  ferry worker modules (to the first message)', columns, (p) => p.modulesMs),
    row('  init (config, HTTP modules, listeners) to ready', columns, (p) => p.initMs),
    row('  wall ms, SIGHUP -> ready', columns, (p) => p.startWallMs),
    row('old worker, stop -> exit (hand-over): CPU ms', columns, (p) => p.handOverMs),
    row('  hand-over messages (sockets) sent', columns, (p) => p.parts, 0),
    row('  CPU µs per socket handed over', columns, perSession, 0),
    row('  wall ms, stop -> exit', columns, (p) => p.handOverWallMs),
    row(`master, CPU ms in the ${WINDOW_MS / 1000} s after SIGHUP (less steady)`, columns, (p) => p.masterMs),
    row('new worker, ready -> last part handled: CPU ms (idle: adopting)', columns, (p) => p.adoptMs ?? undefined),
    row('  CPU µs per socket adopted (idle)', columns, (p) => (p.load === null && p.adoptMs !== null && p.partsIn > 0 ? (p.adoptMs * 1000) / p.partsIn : undefined), 0),
    row('  wall ms, old worker\'s stop -> last part handled', columns, (p) => p.adoptWallMs ?? undefined),
    row(`new worker, ready -> ${WINDOW_MS / 1000} s after SIGHUP: CPU ms`, columns, (p) => (p.load === null ? undefined : p.newAfterMs)),
    row('  less its requests at the steady CPU/req (adoption + cold code)', columns, (p) => p.load?.newExtraMs),
    row('    of which in threads other than the main one (V8 compiler, GC helpers)', columns, (p) => p.load?.newOffMainExtraMs),
    row('old worker SIGHUP -> stop, less its requests at steady CPU/req', columns, (p) => p.load?.oldExtraMs),
    row('sum of the parts above (start, hand-over, master, new and old extra)', columns, parts),
    row(`proxy CPU in the ${WINDOW_MS / 1000} s after SIGHUP, beyond the requests served at steady cost:`, columns, () => undefined),
    row('  ferry (all its processes)', columns, (p) => p.load?.ferryExtraMs),
    row('  softirq (the loopback TCP stack)', columns, (p) => p.load?.irqExtraMs),
    row('  idle', columns, (p) => p.load?.idleExtraMs),
    row('  others (neighbours, steal)', columns, (p) => p.load?.othersExtraMs),
    row('  total', columns, core),
    row(`lost: s of steady throughput in the ${WINDOW_MS / 1000} s after SIGHUP`, columns, (p) => p.load?.lostS, 3),
    row('  the lost requests at the steady proxy CPU time per request, ms', columns, (p) => p.load?.lostCoreMs),
    row(`steady: req/s (the ${PRE_MS / 1000} s before SIGHUP)`, columns, (p) => p.load?.steadyReqPerS, 0),
    row('steady: the worker\'s CPU µs/req', columns, (p) => p.load?.steadyUsPerReq),
    row('steady: the proxy CPU\'s µs/req (ferry + softirq)', columns, (p) => p.load?.coreUsPerReq),
    ['cold code, each 100 ms from the take-over (the old worker\'s stop):', ...columns.map(() => '')],
    ...coldRows(columns),
  ];
  const header = ['median over reloads', ...columns.map((c) => `${c.title} (${c.parts.length})`)];
  return formatTable(header, rows);
}

function bootText(boot: BootCost): string {
  const groups = Object.entries(boot.groups).sort((a, b) => b[1] - a[1]).filter(([, us]) => us >= 300);
  return [
    `standalone on the proxy CPU, medians of ${boot.runs} processes:`,
    `  Node boot (CPU at a -e script's first line): ${(boot.nodeBootUs / 1000).toFixed(1)} ms`,
    `  Node boot + require(workers/worker.js): ${(boot.workerModulesUs / 1000).toFixed(1)} ms`,
    `  the modules' own CPU (compile + top level, less the files they load), by package, >= 0.3 ms:`,
    ...groups.map(([name, us]) => `    ${(us / 1000).toFixed(1).padStart(5)} ms  ${name}`),
  ].join('\n');
}

async function main(): Promise<void> {
  installCleanup(DEADLINE_MS);
  const reloads = flag('reloads', 5);
  const runs = flag('runs', 2);
  const onlyLoad = text('only') === 'load';
  const workerFlags = (text('worker-flags') ?? '').split(/\s+/).filter((f) => f !== '');
  const pinning = setupAffinity(true);
  const cpu = proxyCpu();
  if (cpu === null) throw new Error(`reload-cpu needs the proxy pinned to a CPU of its own: ${pinning}`);
  const wrk = which('wrk');
  if (wrk === null) throw new Error('reload-cpu needs wrk (bench/install-tools.sh installs it)');
  progress(`reload-cpu: ${pinning} | node ${process.version}${workerFlags.length > 0 ? ` | worker flags ${workerFlags.join(' ')}` : ''}`);
  const boot = onlyLoad ? null : bootCost(BOOT_RUNS);
  const port = await freePort();
  const backend = startNodeHelper('backend', benchScript('backend'), [port]);
  try {
    await waitForPort(port, backend);
    const plan: Plan = { runs, reloads, backendPort: port, cpu, workerFlags };
    const columns: Column[] = [];
    if (!onlyLoad) {
      columns.push(await column('idle, 0 conns', { kind: 'idle', connections: 0 }, plan, 1));
      columns.push(await column(`idle, ${CONNECTIONS} conns`, { kind: 'idle', connections: CONNECTIONS }, plan, 1));
    }
    columns.push(await column(`load, ${CONNECTIONS} conns`, { kind: 'load', load: wrkTimeline(wrk, CONNECTIONS, 2) }, plan));
    const flags = workerFlags.length > 0 ? `, workers run with ${workerFlags.join(' ')}` : '';
    console.log(`${boot === null ? '' : `\n${bootText(boot)}\n`}\nreloads of ferry, HTTP mode, 1 group × 1 thread, log level warn${flags} (${pinning}):\n${table(columns)}`);
    for (const c of columns) for (const note of c.notes) console.log(`  note: ${c.title}: ${note}`);
    console.log(JSON.stringify({ tool: 'reload-cpu', node: process.version, pinning, workerFlags, boot, columns: columns.map((c) => ({ title: c.title, parts: c.parts, notes: c.notes })) }));
  } finally {
    await stopProc(backend);
  }
}

main().then(
  () => {
    runCleanup();
    process.exit(0);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    runCleanup();
    process.exit(1);
  },
);
