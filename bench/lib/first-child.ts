// ferry and haproxy in master-worker mode fork the process that carries the
// tunnels; the measurements need its pid, and it exists only a moment after
// the master does.

import { setTimeout as sleep } from 'node:timers/promises';
import { exitError, type Proc } from './proc';
import { childPidsSync } from './tree';

export async function waitForChild(master: Proc, timeoutMs: number): Promise<number> {
  return (await waitForChildren(master, 1, timeoutMs))[0]!;
}

/** The first `count` workers of a master that starts that many (ferry with several groups). */
export async function waitForChildren(master: Proc, count: number, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (master.hasExited()) throw exitError(master, 'starting its workers', await master.exited);
    const pids = childPidsSync(master.pid);
    if (pids.length >= count) return pids.slice(0, count);
    await sleep(25);
  }
  throw new Error(`${master.name}: master ${master.pid} started fewer than ${count} worker(s) within ${timeoutMs} ms\n${master.tail()}`);
}
