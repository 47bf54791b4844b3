import type { StackSnapshot } from '../src/proto/snapshot';
import { sumStats, type Totals } from './stats';
import { SNAPSHOT_TIMEOUT_MS } from './worker-slot';

/**
 * How long a stack that left is remembered, so that a report taken before it left and arriving after
 * does not bring it back: a report older than a snapshot's timeout is dropped before it gets here.
 * Past that it is forgotten, or every reload would leave a key behind for the life of the master.
 */
const GONE_MS = 2 * SNAPSHOT_TIMEOUT_MS;

/**
 * The service's counters for the life of the master. Each stack of each thread (a worker process, a
 * generation, a thread) reports its own counters, which only grow; the tally keeps the last report
 * of every live stack, and when a stack leaves (its generation drained, its worker exited or died)
 * folds that last report into what has left. A total is what has left plus what lives, so it never
 * goes down: a stack is in exactly one of the two at any time, and never comes back once folded.
 * What a worker counted after its last report and before a SIGKILL is lost (at most a poll's worth).
 */
export class Tally {
  /** Stacks gone, summed; only their counters mean anything (their gauges are stale). */
  private folded: Totals = { frontends: [], backends: [] };
  /** The last report of each live stack, by "pid:generation:thread". */
  private readonly live = new Map<string, StackSnapshot>();
  /** Stacks that left lately, with when. */
  private readonly gone = new Map<string, number>();
  /** Changes with every report and fold: what was drawn from the tally at one version still holds. */
  version = 0;

  /** A worker's reports of its threads (with their older stacks). */
  report(pid: number, threads: readonly StackSnapshot[]): void {
    this.version++;
    for (const t of stacksOf(threads)) {
      const key = keyOf(pid, t);
      if (!this.gone.has(key)) this.live.set(key, t);
    }
  }

  /** The last reports of stacks that drained: they count from now on as gone. */
  fold(pid: number, threads: readonly StackSnapshot[]): void {
    this.report(pid, threads);
    for (const t of stacksOf(threads)) this.leave(keyOf(pid, t));
  }

  /** A worker exited: every stack it held is gone, with what it last reported. */
  exited(pid: number): void {
    for (const key of [...this.live.keys()]) if (key.startsWith(`${pid}:`)) this.leave(key);
  }

  /** Every counter since the master started: what left and what lives. Gauges in it mean nothing. */
  counters(): Totals {
    return sumStats([...this.live.values(), asThread(this.folded)]);
  }

  /** What lives now: sessions, queues, states. */
  now(): Totals {
    return sumStats([...this.live.values()]);
  }

  private leave(key: string): void {
    this.version++;
    const t = this.live.get(key);
    const now = Date.now();
    for (const [old, at] of this.gone) if (now - at > GONE_MS) this.gone.delete(old);
    this.gone.set(key, now);
    if (t === undefined) return;
    this.live.delete(key);
    const sum = sumStats([asThread(this.folded), t]);
    // Per-thread UDP rows are for `show stat` of live threads: the folded sum keeps none.
    this.folded = { frontends: sum.frontends.map(({ threads: _, ...f }) => f), backends: sum.backends };
  }
}

function stacksOf(threads: readonly StackSnapshot[]): StackSnapshot[] {
  return threads.flatMap((t) => [t, ...(t.older ?? [])]);
}

function keyOf(pid: number, t: StackSnapshot): string {
  return `${pid}:${t.generation}:${t.thread}`;
}

function asThread(totals: Totals): StackSnapshot {
  return { group: 0, thread: 0, generation: 0, listeners: [], frontends: totals.frontends, backends: totals.backends, sessions: 0, oldest: [] };
}
