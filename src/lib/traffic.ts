// What a frontend, backend or server counts of the traffic through it, once per session or request
// as its log line is written: plain integers on the hot path, summed by the master over threads.

/**
 * The upper bounds (ms) of the time histograms' buckets, fixed so that every scrape of every version
 * adds up: 5 ms to 10 s, with +Inf after the last. The README lists them.
 */
export const TIME_BUCKETS_MS: readonly number[] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Counts per bucket (not cumulative: the last one is +Inf), the sum in ms, and how many. */
export interface TimeCounts {
  buckets: number[];
  sumMs: number;
  count: number;
}

export interface TrafficCounters {
  bytesIn: number;
  bytesOut: number;
  /** HTTP responses by status class: [0] none sent (the client or server went first), [1] 1xx .. [5] 5xx. */
  statuses: number[];
  /** Extra server connection attempts after a failed one. */
  retries: number;
  /** Backends: retries that went to another server than the one that failed (`redispatch`). */
  redispatches: number;
  /** HTTP: from the request sent to the response head, and from the accept (or the request) to the end. */
  response: TimeCounts;
  total: TimeCounts;
  /** Sessions and requests that did not end normally, by termination code (README, Logs). */
  ends: Record<string, number>;
}

export class Traffic implements TrafficCounters {
  bytesIn = 0;
  bytesOut = 0;
  readonly statuses = [0, 0, 0, 0, 0, 0];
  retries = 0;
  redispatches = 0;
  readonly response = noTimes();
  readonly total = noTimes();
  readonly ends: Record<string, number> = {};

  /** A session or request ended otherwise than normally, with `termination`. */
  ended(termination: string): void {
    this.ends[termination] = (this.ends[termination] ?? 0) + 1;
  }

  /** A TCP session ended. */
  session(bytesIn: number, bytesOut: number, retries: number): void {
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
    this.retries += retries;
  }

  /** An HTTP request ended; `responseMs` -1: no response head came. */
  request(status: number, bytesIn: number, bytesOut: number, retries: number, responseMs: number, totalMs: number): void {
    this.session(bytesIn, bytesOut, retries);
    const cls = status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
    this.statuses[cls]++;
    if (responseMs >= 0) observe(this.response, responseMs);
    observe(this.total, totalMs);
  }

  /** A copy that crosses a MessagePort. */
  counters(): TrafficCounters {
    const { bytesIn, bytesOut, retries, redispatches, response, total } = this;
    return { bytesIn, bytesOut, statuses: [...this.statuses], retries, redispatches, response: copyTimes(response), total: copyTimes(total), ends: { ...this.ends } };
  }
}

export function noTimes(): TimeCounts {
  return { buckets: new Array<number>(TIME_BUCKETS_MS.length + 1).fill(0), sumMs: 0, count: 0 };
}

function observe(t: TimeCounts, ms: number): void {
  let i = 0;
  while (i < TIME_BUCKETS_MS.length && ms > TIME_BUCKETS_MS[i]) i++;
  t.buckets[i]++;
  t.sumMs += ms;
  t.count++;
}

function copyTimes(t: TimeCounts): TimeCounts {
  return { buckets: [...t.buckets], sumMs: t.sumMs, count: t.count };
}

/** The sum of two threads' counters, a new object (neither is changed). */
export function addTraffic(a: TrafficCounters | undefined, b: TrafficCounters | undefined): TrafficCounters | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return {
    bytesIn: a.bytesIn + b.bytesIn,
    bytesOut: a.bytesOut + b.bytesOut,
    statuses: a.statuses.map((n, i) => n + (b.statuses[i] ?? 0)),
    retries: a.retries + b.retries,
    redispatches: a.redispatches + b.redispatches,
    response: addTimes(a.response, b.response),
    total: addTimes(a.total, b.total),
    ends: addEnds(a.ends, b.ends),
  };
}

function addEnds(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [code, n] of Object.entries(b)) sum[code] = (sum[code] ?? 0) + n;
  return sum;
}

function addTimes(a: TimeCounts, b: TimeCounts): TimeCounts {
  return { buckets: a.buckets.map((n, i) => n + (b.buckets[i] ?? 0)), sumMs: a.sumMs + b.sumMs, count: a.count + b.count };
}
