import type { Fields } from '../../http/fields';
import type { Server } from '../server';

/** What request hashing reads of an HTTP request. */
export interface RequestKeys {
  readonly target: string;
  readonly fields: Fields;
}

/** What a balancer may know of the session it chooses a server for. */
export interface PickContext {
  /** The client's IP address; absent for clients on Unix sockets. */
  client?: string;
  /** The HTTP request a server is chosen for (HTTP mode). */
  request?: RequestKeys;
}

/**
 * Chooses a server for a new session among the usable ones not in `skip` (servers that just failed).
 * Weights are read at each pick, so `set weight` takes effect with the next session.
 */
export interface Balancer {
  pick(skip: ReadonlySet<Server>, ctx: PickContext): Server | undefined;
}
