import type { StatsWhat } from '../proto/ipc';

/** How long a `stats` request waits for the master before answering 503. */
const ANSWER_TIMEOUT_MS = 2_000;

/** Unique in the thread, over every generation's stack in it: any of them may take an answer. */
let nextRef = 0;

/**
 * A thread's `stats` requests on their way to the master (only the master holds the service's
 * totals): each is a ref, answered by the body the master sends back, or by nothing in time.
 */
export class StatsRequests {
  private readonly pending = new Map<number, (body: string | undefined) => void>();

  constructor(private readonly send: (ref: number, what: StatsWhat) => void) {}

  /** The body, or undefined when the master did not answer in time. */
  ask(what: StatsWhat): Promise<string | undefined> {
    const ref = nextRef++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.answer(ref, undefined), ANSWER_TIMEOUT_MS);
      this.pending.set(ref, (body) => {
        clearTimeout(timer);
        resolve(body);
      });
      this.send(ref, what);
    });
  }

  /** The master's answer; one for another stack of the thread is not ours. */
  answer(ref: number, body: string | undefined): void {
    const done = this.pending.get(ref);
    this.pending.delete(ref);
    done?.(body);
  }
}
