// On a 2-core box the proxy under test gets a core of its own and everything
// else (bench, load generator, backends) shares the other; on a bigger one a
// proxy with N workers gets N cores of its own (--groups x --threads, scale). Without this the
// scheduler moves the proxy around at will, so its throughput depends on
// where wrk and the backend happened to land, and a proxy that burns more CPU
// per request can hide behind the load generator's share.

import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { which } from './which';

let taskset: string | null = null;
/** The CPUs kept for proxies: the highest `proxyCpus` numbers, one per worker where the machine has them. */
let proxyCpus = 0;
let cpuCount = 0;

/** "3" or "2-3". */
function span(first: number, last: number): string {
  return first === last ? String(first) : `${first}-${last}`;
}

/**
 * Pins this process (and so every helper it starts later) off the proxies' CPUs: `proxyCores` of them
 * (a proxy's workers, one core each), at most all but one. Returns a description for the report.
 */
export function setupAffinity(enabled: boolean, proxyCores = 1): string {
  const cpus = os.cpus().length;
  const found = which('taskset');
  if (!enabled) return 'not pinned (--pin off)';
  if (cpus < 2 || found === null) return 'not pinned (needs taskset and 2+ CPUs)';
  const kept = Math.min(proxyCores, cpus - 1);
  const others = span(0, cpus - kept - 1);
  try {
    execFileSync(found, ['-a', '-cp', others, String(process.pid)], { stdio: 'ignore' });
  } catch {
    return 'not pinned (taskset failed)';
  }
  taskset = found;
  proxyCpus = kept;
  cpuCount = cpus;
  const short = kept < proxyCores ? ` (${proxyCores} workers share them: this machine keeps one CPU for the load)` : '';
  return `proxy pinned to cpu ${span(cpus - kept, cpus - 1)}${short}; bench, load and backends to cpu ${others}`;
}

/**
 * The command and args that start a proxy with `cores` workers on CPUs of its own (taskset execs, so
 * the pid is the proxy's): the highest `cores` of the proxies' CPUs, fewer when fewer were kept.
 */
export function onProxyCpu(command: string, args: readonly string[], cores = 1): [string, string[]] {
  if (taskset === null) return [command, [...args]];
  const n = Math.max(1, Math.min(cores, proxyCpus));
  return [taskset, ['-c', span(cpuCount - n, cpuCount - 1), command, ...args]];
}

/** The CPU single-worker proxies are pinned to, or null when they are not pinned. */
export function proxyCpu(): number | null {
  return taskset === null ? null : cpuCount - 1;
}
