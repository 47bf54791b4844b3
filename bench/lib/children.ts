// Every process the bench starts is registered here so cleanup can SIGKILL
// whatever is still alive, including grandchildren (ferry's worker) that
// would otherwise be orphaned when their parent is killed first.

import type { ChildProcess } from 'node:child_process';
import { onCleanup } from './cleanup';

const liveChildren = new Set<ChildProcess>();
const livePids = new Set<number>();

export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function killAll(): void {
  for (const child of liveChildren) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      killQuietly(child.pid);
    }
  }
  for (const pid of livePids) killQuietly(pid);
}

onCleanup(killAll);

export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

export function trackPid(pid: number): void {
  livePids.add(pid);
}

export function untrackPid(pid: number): void {
  livePids.delete(pid);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
