// Brackets the measured part of a trial (not start-up or warm-up) with the
// noise meter and the proxy's CPU clock. CPU per unit of work hardly moves
// when the hypervisor steals time, so it shows an efficiency gap even when
// throughput numbers are blurred.

import type { Contender } from '../contenders/contender';
import { startNoiseMeter } from './cpu-noise';
import { cpuTicks, treeCpuTicks, TICKS_PER_SECOND, userTicks } from './cpu-time';

export interface Work {
  /** The figure of merit (req/s, MB/s). */
  readonly value: number;
  /** Units of work done (requests, MB), to turn CPU time into a cost. */
  readonly work: number;
}

export interface Trial {
  readonly value: number;
  /** Proxy CPU seconds per unit of work. */
  readonly cost: number;
  /**
   * The part of `cost` spent outside the kernel (NaN where not metered): the proxy's own work, where
   * the rest is the system calls every proxy makes for the same traffic.
   */
  readonly userCost: number;
  /** Share of all CPUs taken by others meanwhile (0..1). */
  readonly noise: number;
}

/** `tree`: count the CPU of the proxy's descendants too (every worker of a ferry with several groups). */
export function meter(proxyPid: number, run: () => Promise<Work>, tree = false): Promise<Trial> {
  const ticks = tree ? treeCpuTicks : cpuTicks;
  return meterTicks(() => ticks(proxyPid), run, tree ? () => null : () => userTicks(proxyPid));
}

/** The contender's CPU: its workers' (every group's, for ferry with several) or else its dataPid's. */
export function meterContender(contender: Contender, run: () => Promise<Work>): Promise<Trial> {
  const pids = contender.workers ?? [contender.dataPid];
  const sum = (ticks: (pid: number) => number | null) => (): number | null => {
    let total = 0;
    for (const pid of pids) {
      const own = ticks(pid);
      if (own === null) return null;
      total += own;
    }
    return total;
  };
  return meterTicks(sum((pid) => cpuTicks(pid)), run, sum(userTicks));
}

type Ticks = () => number | null;

async function meterTicks(ticks: Ticks, run: () => Promise<Work>, user: Ticks): Promise<Trial> {
  const noiseOf = startNoiseMeter();
  const before = ticks() ?? 0;
  const userBefore = user();
  const done = await run();
  const seconds = (now: number | null, then: number | null): number => (now === null || then === null ? Number.NaN : (now - then) / TICKS_PER_SECOND);
  return { value: done.value, cost: seconds(ticks() ?? before, before) / done.work, userCost: seconds(user(), userBefore) / done.work, noise: noiseOf() };
}
