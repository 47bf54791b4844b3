/**
 * A thread's limit on new flows per second: a token bucket that holds at most one second's worth, so
 * a quiet spell allows a burst of `perSecond` flows and no more, and a steady stream gets `perSecond`.
 */
export class FlowRate {
  private tokens: number;
  private last: number;

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
    this.last = performance.now();
  }

  /** Whether one more flow may start now; if so, it is counted. */
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
