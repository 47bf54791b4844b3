import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * How long after the last reload (or the last old stack gone) a process collects: long enough that
 * a reload storm never pays for it, and that V8's allocation rate over its last few seconds reads
 * low, which is when a full collection also gives back the young generation it grew for the burst.
 */
export const QUIET_MS = 5000;
/**
 * How long after that collection a second one runs. V8 shrinks a young generation that a burst grew
 * (to 32 MB) only at a full collection that finds the allocation rate since the one before low, and
 * the first collection still measures the storm: in 2 of 7 runs of 1,000 reloads, the master kept
 * its grown young generation, 15 MB of RSS, until the second.
 */
export const SECOND_AFTER_MS = 1000;

type Collect = () => void;
let collect: Collect | undefined;

/**
 * V8's `gc()`, exposed for this process without `--expose-gc` on its command line: the flag only
 * makes new contexts get the function, so one is made to fetch it, and the function collects the
 * isolate it was fetched in (each thread fetches its own).
 */
function collector(): Collect {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Collect;
  }
  return collect;
}

/**
 * Two full garbage collections once reloads have stopped for `QUIET_MS`, `SECOND_AFTER_MS` apart.
 * Each reload leaves what its generation used (configuration, stacks, messages) promoted to V8's
 * old space, and V8 collects old space only when it reaches its next limit, which an idle master,
 * or a worker under it, may not reach for hours: after a burst of 1,000 reloads the master kept
 * 16 MB and a worker 11 MB of RSS that a collection gives back. `touch` on each reload and each old
 * generation gone; a storm of reloads keeps pushing the collections back, so they cost the storm
 * nothing (two pauses of a few ms once it ends).
 */
export class QuietGc {
  private timer: NodeJS.Timeout | undefined;
  /** The first collection ran: the timer is the second's. */
  private second = false;

  constructor(
    private readonly quietMs = QUIET_MS,
    private readonly secondAfterMs = SECOND_AFTER_MS,
  ) {}

  touch(): void {
    // A touch between the two collections starts the wait again: the storm goes on.
    if (this.timer !== undefined && !this.second) return void this.timer.refresh();
    clearTimeout(this.timer);
    this.second = false;
    this.timer = this.after(this.quietMs, () => {
      collector()();
      this.second = true;
      this.timer = this.after(this.secondAfterMs, () => {
        this.timer = undefined;
        collector()();
      });
    });
  }

  private after(ms: number, run: () => void): NodeJS.Timeout {
    // A process that is otherwise done does not wait for its collection.
    return setTimeout(run, ms).unref();
  }
}
