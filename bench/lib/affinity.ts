// On a 2-core box the proxy under test gets a core of its own and everything
// else (bench, load generator, backends) shares the other. Without this the
// scheduler moves the proxy around at will, so its throughput depends on
// where wrk and the backend happened to land, and a proxy that burns more CPU
// per request can hide behind the load generator's share.

import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { which } from './which';

let prefix: string[] = [];
let pinnedCpu: number | null = null;

/**
 * Pins this process (and so every helper it starts later) off the proxy's
 * CPU. Returns a description for the report.
 */
export function setupAffinity(enabled: boolean): string {
  const cpus = os.cpus().length;
  const taskset = which('taskset');
  if (!enabled) return 'not pinned (--pin off)';
  if (cpus < 2 || taskset === null) return 'not pinned (needs taskset and 2+ CPUs)';
  const proxyCpu = String(cpus - 1);
  const others = cpus === 2 ? '0' : `0-${cpus - 2}`;
  try {
    execFileSync(taskset, ['-a', '-cp', others, String(process.pid)], { stdio: 'ignore' });
  } catch {
    return 'not pinned (taskset failed)';
  }
  prefix = [taskset, '-c', proxyCpu];
  pinnedCpu = cpus - 1;
  return `proxy pinned to cpu ${proxyCpu}; bench, load and backends to cpu ${others}`;
}

/** The command and args that start a proxy on its own CPU (taskset execs, so the pid is the proxy's). */
export function onProxyCpu(command: string, args: readonly string[]): [string, string[]] {
  if (prefix.length === 0) return [command, [...args]];
  return [prefix[0]!, [...prefix.slice(1), command, ...args]];
}

/** The CPU proxies are pinned to, or null when they are not pinned. */
export function proxyCpu(): number | null {
  return pinnedCpu;
}
