import type { Server } from '../server';

/** What a balancer may know of the session it chooses a server for. */
export interface PickContext {
  /** The client's IP address; absent for clients on Unix sockets. */
  client?: string;
}

/**
 * Chooses a server for a new session among the usable ones not in `skip` (servers that just failed).
 * Weights are read at each pick, so `set weight` takes effect with the next session.
 */
export interface Balancer {
  pick(skip: ReadonlySet<Server>, ctx: PickContext): Server | undefined;
}
