// ferry and haproxy in master-worker mode fork the process that carries the
// tunnels; the measurements need its pid, and it exists only a moment after
// the master does.

import { setTimeout as sleep } from 'node:timers/promises';
import { exitError, type Proc } from './proc';
import { childPidsSync } from './tree';

export async function waitForChild(master: Proc, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (master.hasExited()) throw exitError(master, 'starting its worker', await master.exited);
    const pids = childPidsSync(master.pid);
    if (pids.length > 0) return pids[0]!;
    await sleep(25);
  }
  throw new Error(`${master.name}: master ${master.pid} started no worker within ${timeoutMs} ms\n${master.tail()}`);
}
