// Brackets the measured part of a trial (not start-up or warm-up) with the
// noise meter and the proxy's CPU clock. CPU per unit of work hardly moves
// when the hypervisor steals time, so it shows an efficiency gap even when
// throughput numbers are blurred.

import { startNoiseMeter } from './cpu-noise';
import { cpuTicks, treeCpuTicks, TICKS_PER_SECOND } from './cpu-time';

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
  /** Share of all CPUs taken by others meanwhile (0..1). */
  readonly noise: number;
}

/** `tree`: count the CPU of the proxy's descendants too (every worker of a ferry with several groups). */
export async function meter(proxyPid: number, run: () => Promise<Work>, tree = false): Promise<Trial> {
  const ticks = tree ? treeCpuTicks : cpuTicks;
  const noiseOf = startNoiseMeter();
  const before = ticks(proxyPid) ?? 0;
  const done = await run();
  const cpuSeconds = ((ticks(proxyPid) ?? before) - before) / TICKS_PER_SECOND;
  return { value: done.value, cost: cpuSeconds / done.work, noise: noiseOf() };
}
