import type { PickContext } from './balance';
import type { Server } from './server';

/** A session waiting for a server slot. */
export interface Waiter {
  /** Its place in the queue: when its client was accepted (by the first generation, if it moved). */
  readonly acceptedAt: number;
  /** What the balancer chooses its server by. */
  readonly pickContext: PickContext;
  /** It leaves the queue with a slot on `server`, which it must take before returning. */
  served(server: Server): void;
  /** Its deadline passed: it is out of the queue, and must end. */
  expired(): void;
}

interface Entry {
  waiter: Waiter;
  timer?: NodeJS.Timeout;
}

/**
 * One thread's sessions of a backend waiting for a server slot, in arrival order, each until its
 * deadline. Newcomers go to the back; a session moved from an older generation goes before those
 * accepted after it, so a reload keeps the order as well as the clocks of one host can tell it.
 */
export class Queue {
  private readonly entries: Entry[] = [];
  /** The longest the queue has been. */
  max = 0;
  /** Sessions that entered the queue. */
  total = 0;
  /** Sessions that left it at their deadline, without a slot. */
  timedOut = 0;

  get length(): number {
    return this.entries.length;
  }

  /** Queues `waiter` until `deadline` (a Date.now() time; undefined: until served). */
  add(waiter: Waiter, deadline: number | undefined): void {
    const entry: Entry = { waiter, timer: undefined };
    if (deadline !== undefined) this.arm(entry, deadline);
    let at = this.entries.length;
    while (at > 0 && this.entries[at - 1].waiter.acceptedAt > waiter.acceptedAt) at--;
    this.entries.splice(at, 0, entry);
    this.total++;
    this.max = Math.max(this.max, this.entries.length);
  }

  /** Takes `waiter` out without a slot: its client left, or it moves to the next generation. */
  remove(waiter: Waiter): void {
    const at = this.entries.findIndex((e) => e.waiter === waiter);
    if (at === -1) return;
    clearTimeout(this.entries[at].timer);
    this.entries.splice(at, 1);
  }

  /** The session that has waited longest. */
  get head(): Waiter | undefined {
    return this.entries[0]?.waiter;
  }

  /** Takes the head out, to be served. */
  shift(): Waiter | undefined {
    const entry = this.entries.shift();
    if (entry === undefined) return undefined;
    clearTimeout(entry.timer);
    return entry.waiter;
  }

  /**
   * A timer runs on libuv's loop clock, cached when the loop turned, so it may fire a millisecond
   * before the Date.now() deadline: it is then armed again for what is left.
   */
  private arm(entry: Entry, deadline: number): void {
    entry.timer = setTimeout(() => {
      if (Date.now() < deadline) this.arm(entry, deadline);
      else this.expire(entry.waiter);
    }, Math.max(0, deadline - Date.now()));
  }

  private expire(waiter: Waiter): void {
    this.remove(waiter);
    this.timedOut++;
    waiter.expired();
  }
}
