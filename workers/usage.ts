import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { WorkerUsage } from '../src/proto/ipc';

const RESOLUTION_MS = 20;
let delay: IntervalHistogram | undefined;

/**
 * The process's resident memory and its main event loop's mean delay since the last call (the
 * master asks about once a second). The first call starts measuring.
 */
export function usage(): WorkerUsage {
  if (delay === undefined) {
    delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    delay.enable();
  }
  // The histogram is in ns; NaN until a first sample.
  // Each sample is the time between two ticks of a RESOLUTION_MS timer: the delay is what exceeds it.
  const lagMs = Number.isFinite(delay.mean) ? Math.max(0, delay.mean / 1e6 - RESOLUTION_MS) : 0;
  delay.reset();
  return { rssBytes: process.memoryUsage.rss(), lagMs };
}
