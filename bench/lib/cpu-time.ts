// CPU time a process has used, in clock ticks (USER_HZ, 100 per second on
// Linux), read from /proc/PID/stat.

import fs from 'node:fs';
import { childPidsSync } from './tree';

export const TICKS_PER_SECOND = 100;

/** The fields of /proc/PID/stat after "(comm)": state is 0, utime 11, stime 12, cutime 13, cstime 14. */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime+stime, plus cutime+cstime (reaped children) when asked. */
export function cpuTicks(pid: number, withReapedChildren = false): number | null {
  return statFields(pid)?.slice(11, withReapedChildren ? 15 : 13).reduce((sum, f) => sum + Number(f), 0) ?? null;
}

/** utime alone: the CPU a process spent outside the kernel. */
export function userTicks(pid: number): number | null {
  const fields = statFields(pid);
  return fields === null ? null : Number(fields[11]);
}

/**
 * A process and its descendants, with the children each has reaped: a proxy's CPU over a time in
 * which its master starts and reaps workers (reloads).
 */
export function reapedTreeTicks(pid: number): number | null {
  const own = cpuTicks(pid, true);
  if (own === null) return null;
  return childPidsSync(pid).reduce((sum, child) => sum + (reapedTreeTicks(child) ?? 0), own);
}

/** A process and its descendants (ferry's master and workers), as they are now. */
export function treeCpuTicks(pid: number): number | null {
  const own = cpuTicks(pid);
  if (own === null) return null;
  return childPidsSync(pid).reduce((sum, child) => sum + (treeCpuTicks(child) ?? 0), own);
}
