// What starting a worker process costs before it does anything of its own, on the proxy's CPU with
// nothing else running: Node's boot (the CPU a `node -e` script sees at its first line), and Node's
// boot plus loading ferry's worker modules (workers/worker.js and everything it imports; without an
// IPC channel it then exits), measured by anatomy/module-cost.ts, which also splits the modules' CPU
// by package. Medians of `runs` processes.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { onProxyCpu } from '../lib/affinity';
import { benchDir, distDir } from '../lib/paths';
import { median } from '../lib/stats';

export interface BootCost {
  readonly runs: number;
  /** CPU of a bare Node process at its first line of script, µs. */
  readonly nodeBootUs: number;
  /** CPU of a process that loaded ferry's worker modules, at exit, µs (Node's boot included). */
  readonly workerModulesUs: number;
  /** The modules' CPU by package or ferry folder, µs, medians. */
  readonly groups: Record<string, number>;
}

interface ModuleCost {
  bootUs: number;
  totalUs: number;
  groups: Record<string, { us: number }>;
}

function runNode(args: readonly string[]): string {
  const [command, argv] = onProxyCpu(process.execPath, args);
  return execFileSync(command, argv, { encoding: 'utf8', timeout: 20_000 });
}

export function bootCost(runs: number): BootCost {
  const boot: number[] = [];
  const modules: ModuleCost[] = [];
  const worker = path.join(distDir, 'workers', 'worker.js');
  for (let i = 0; i < runs; i += 1) {
    boot.push(Number(runNode(['-e', 'const u = process.cpuUsage(); process.stdout.write(String(u.user + u.system))'])));
    const out = runNode(['-r', path.join(benchDir, 'anatomy', 'module-cost.js'), '-e', `require(${JSON.stringify(worker)})`]);
    modules.push(JSON.parse(out.trim().split('\n').pop()!) as ModuleCost);
  }
  const names = new Set(modules.flatMap((m) => Object.keys(m.groups)));
  const groups: Record<string, number> = {};
  for (const name of names) groups[name] = median(modules.map((m) => m.groups[name]?.us ?? 0));
  return { runs, nodeBootUs: median(boot), workerModulesUs: median(modules.map((m) => m.totalUs)), groups };
}
