/**
 * Restart delays for a worker slot: doubling from `min` to `max` while workers keep dying young, back
 * to `min` once one has lived `stableAfter` ms. A worker that crashes at start costs a fork per `max`
 * at worst, never a fork storm.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly min = 100,
    private readonly max = 10_000,
    private readonly stableAfter = 10_000,
  ) {}

  /** The delay before the next start, given how long the last worker lived. */
  next(livedMs: number): number {
    if (livedMs >= this.stableAfter) this.failures = 0;
    const delay = Math.min(this.max, this.min * 2 ** this.failures);
    this.failures++;
    return delay;
  }
}
