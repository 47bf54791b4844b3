// What one reload costs in throughput, from a timeline of responses per slice (load/wrk-timeline.ts)
// and the slice in which the reload was asked for: the steady level is the mean of the full slices
// before that one (after a short ramp: connections open during the first), and the loss is
// Σ (steady − actual) × slice over a window from the reload's slice on, in requests, divided by the
// steady rate: the seconds of steady throughput the reload cost. The sum is signed: a slice above
// the steady level pays some back, so noise averages out instead of counting as loss.

import { requestsBetween, SLICE_MS, type Timeline } from '../load/wrk-timeline';
import { TICKS_PER_SECOND } from './cpu-time';

export interface Dip {
  /** Seconds of steady throughput lost in the window. */
  readonly lostS: number;
  /** The steady level before the reload, in requests per second. */
  readonly steadyRate: number;
  /** Each slice of the window as a share of the steady level, from the reload's slice on. */
  readonly shares: readonly number[];
  /** The slices of the run after the window, as a share of the steady level (the new generation, warm). */
  readonly after: number;
}

/** Slices at the start of a run left out of the steady level: the first is partial, and connections open then. */
const RAMP_SLICES = 3;

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function counts(timeline: Timeline, from: number, to: number): number[] {
  const out: number[] = [];
  for (let slice = from; slice < to; slice += 1) out.push(timeline.counts.get(slice) ?? 0);
  return out;
}

/** null when the run does not hold a steady part before the reload and the whole window after it. */
export function dipOf(timeline: Timeline, reloadSlice: number, windowS: number): Dip | null {
  const windowSlices = Math.round((windowS * 1000) / SLICE_MS);
  const end = reloadSlice + windowSlices;
  // The last slice is partial: the window must end before it.
  if (reloadSlice - (timeline.first + RAMP_SLICES) < 5 || end >= timeline.last) return null;
  const steady = mean(counts(timeline, timeline.first + RAMP_SLICES, reloadSlice));
  if (!(steady > 0)) return null;
  const shares = counts(timeline, reloadSlice, end).map((n) => n / steady);
  const lostS = shares.reduce((sum, share) => sum + (1 - share) * (SLICE_MS / 1000), 0);
  const after = mean(counts(timeline, end, timeline.last)) / steady;
  return { lostS, steadyRate: (steady * 1000) / SLICE_MS, shares, after };
}

/** The proxy's CPU time (its whole process tree, reaped workers included) at an instant. */
export interface CpuMark {
  /** CLOCK_MONOTONIC, ns. */
  readonly mono: number;
  readonly ticks: number;
}

/**
 * The same cost from the proxy's CPU instead of its throughput: its CPU from the reload to the
 * window's end, less the requests it served meanwhile at its CPU per request before the reload
 * (from `steady` to `reload`), in seconds. On a quiet CPU that the proxy saturates this is the
 * seconds of throughput lost (less the TCP stack's share, which the kernel counts apart); it hardly
 * moves when neighbours take the CPU for a while, which the throughput does.
 */
export function cpuDipOf(timeline: Timeline, steady: CpuMark, reload: CpuMark, end: CpuMark): number | null {
  const before = requestsBetween(timeline, steady.mono, reload.mono);
  if (!(before > 0)) return null;
  const perRequest = (reload.ticks - steady.ticks) / before;
  const extra = end.ticks - reload.ticks - requestsBetween(timeline, reload.mono, end.mono) * perRequest;
  return extra / TICKS_PER_SECOND;
}
