import type { Backend } from './backend';
import type { Waiter } from './queue';
import type { Server } from './server';

/**
 * A session's (or an HTTP request's) claim on a server slot: taken at once when one is free, else
 * after waiting in the backend's queue behind those who came first; moved when a retry goes to
 * another server; given back to the head of the queue when done. It also keeps how long it waited.
 */
export class Slot {
  /** The server it holds a slot on (counted in its `active`). */
  private assigned: Server | undefined;
  /**
   * When it began to wait for a slot (in this generation or an older one); 0: it is not waiting. It
   * waits in the backend queue, or on its way from there to the next generation.
   */
  queuedAt = 0;
  /** Time it spent waiting before its current wait. */
  waitedMs: number;

  constructor(
    private readonly backend: Backend,
    private readonly waiter: Waiter,
    waitedMs = 0,
  ) {
    this.waitedMs = waitedMs;
  }

  get waiting(): boolean {
    return this.queuedAt !== 0;
  }

  /** All the time it waited, until `now`. */
  queueMs(now: number): number {
    return this.waitedMs + (this.waiting ? now - this.queuedAt : 0);
  }

  /**
   * The server whose free slot it may take now; undefined when it waits in the queue instead (the
   * waiter's `served` is called later). `since`: when a wait begun in an older generation began, so
   * it keeps its place and its deadline.
   */
  request(since = 0): Server | undefined {
    const { backend } = this;
    this.queuedAt = since;
    const server = backend.admit(this.waiter.pickContext);
    if (server !== undefined) return server;
    this.queuedAt ||= Date.now();
    const { queue: timeout } = backend.config.timeout;
    backend.queue.add(this.waiter, timeout === 0 ? undefined : this.queuedAt + timeout);
    return undefined;
  }

  /** Takes a slot on `server` (the queue's, or a retry's), then gives back the one it held: a retry on the same server keeps its slot. */
  hold(server: Server): void {
    if (this.waiting) {
      this.waitedMs += Date.now() - this.queuedAt;
      this.queuedAt = 0;
    }
    if (this.assigned === server) return;
    server.active++;
    this.release();
    this.assigned = server;
  }

  /** Leaves the queue, if it waits there, without a slot. */
  leaveQueue(): void {
    if (this.waiting) this.backend.queue.remove(this.waiter);
  }

  /** Gives its slot back, to the head of the queue if one waits. */
  release(): void {
    const server = this.assigned;
    if (server === undefined) return;
    this.assigned = undefined;
    server.active--;
    this.backend.dispatch();
  }
}
