import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * How long after the last reload (or the last old stack gone) a process collects: long enough that
 * a reload storm never pays for it, and that V8's allocation rate over its last few seconds reads
 * low, which is when a full collection also gives back the young generation it grew for the burst.
 */
export const QUIET_MS = 5000;
/**
 * How long apart the collections after the first run, while the young generation is still larger
 * than it was when the burst began. V8 shrinks a young generation that a burst grew (to 32 MB) only
 * at a full collection that finds its allocation rate over the last 5 s low, which the first
 * collection may not: in 2 of 7 runs of 1,000 reloads, and in 1 of 9 with a second collection 1 s
 * after the first, the master kept its grown young generation, 15 MB of RSS.
 */
export const AGAIN_AFTER_MS = 1000;
/** At most this many collections after one burst: V8 may keep a young generation the traffic needs. */
export const AT_MOST = 10;

/** The young generation's size now (V8's new space, in bytes). */
export function youngGenerationSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

type Collect = () => void;
let collect: Collect | undefined;

/**
 * V8's `gc()`, exposed for this process without `--expose-gc` on its command line: the flag only
 * makes new contexts get the function, so one is made to fetch it, and the function collects the
 * isolate it was fetched in (each thread fetches its own). Each collection also compacts the whole
 * old space: V8's own full collections move objects off the most fragmented pages only, and after
 * 1,000 reloads under load a worker kept 16 MB of old-space pages for 6.4 MB of objects (its RSS
 * 1.09 to 1.15 of what it was after the 10th reload; 1.01 to 1.02 with the compaction). It costs
 * the pause of moving what lives (25 ms for 5 MB scattered over 50 MB of pages), once a storm is over.
 */
function collector(): Collect {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as Collect;
    collect = () => {
      setFlagsFromString('--compact-on-every-full-gc');
      try {
        gc();
      } finally {
        setFlagsFromString('--no-compact-on-every-full-gc');
      }
    };
  }
  return collect;
}

/**
 * Full garbage collections once reloads have stopped for `QUIET_MS`. Each reload leaves what its
 * generation used (configuration, stacks, messages) promoted to V8's old space, and V8 collects old
 * space only when it reaches its next limit, which an idle master, or a worker under it, may not
 * reach for hours: after a burst of 1,000 reloads the master kept 16 MB and a worker 11 MB of RSS
 * that a collection gives back. More follow, `AGAIN_AFTER_MS` apart, while the young generation is
 * larger than at the burst's first `touch` (at most `AT_MOST` in all). `touch` on each reload and
 * each old generation gone; a storm of reloads keeps pushing the collections back, so they cost
 * the storm nothing (pauses of a few ms once it ends).
 */
export class QuietGc {
  private timer: NodeJS.Timeout | undefined;
  /** The young generation's size when the burst began: what the collections give back down to. */
  private youngBefore = 0;
  /** Collections run since the burst ended: while above 0, the timer is the next one's. */
  private runs = 0;

  constructor(
    private readonly quietMs = QUIET_MS,
    private readonly againMs = AGAIN_AFTER_MS,
    private readonly young: () => number = youngGenerationSize,
  ) {}

  touch(): void {
    if (this.timer === undefined) this.youngBefore = this.young();
    // A touch while the collections go on starts the wait again: the storm goes on.
    if (this.timer !== undefined && this.runs === 0) return void this.timer.refresh();
    clearTimeout(this.timer);
    this.runs = 0;
    this.timer = this.after(this.quietMs);
  }

  private collect(): void {
    collector()();
    this.runs++;
    const again = this.runs < AT_MOST && this.young() > this.youngBefore;
    this.timer = again ? this.after(this.againMs) : undefined;
  }

  private after(ms: number): NodeJS.Timeout {
    // A process that is otherwise done does not wait for its collection.
    return setTimeout(() => this.collect(), ms).unref();
  }
}
