import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * How long after the last reload (or the last old stack gone) a process collects: long enough that
 * a reload storm never pays for it, and that V8's allocation rate over its last few seconds reads
 * low, which is when a full collection also gives back the young generation it grew for the burst.
 */
export const QUIET_MS = 5000;

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
 * One full garbage collection once reloads have stopped for `QUIET_MS`. Each reload leaves what its
 * generation used (configuration, stacks, messages) promoted to V8's old space, and V8 collects old
 * space only when it reaches its next limit, which an idle master, or a worker under it, may not
 * reach for hours: after a burst of 1,000 reloads the master kept 16 MB and a worker 11 MB of RSS
 * that a collection gives back. `touch` on each reload and each old generation gone; a storm of
 * reloads keeps pushing the collection back, so it costs the storm nothing (a few ms of pause once
 * it ends).
 */
export class QuietGc {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly quietMs = QUIET_MS) {}

  touch(): void {
    if (this.timer !== undefined) return void this.timer.refresh();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      collector()();
    }, this.quietMs);
    // A process that is otherwise done does not wait for its collection.
    this.timer.unref();
  }
}
