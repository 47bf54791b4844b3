import type { Server } from '../server';

/**
 * What request hashing reads of an HTTP request (http/request-head.ts's RequestHead has both): a
 * type of backend/'s own, so that the balancers do not import http/.
 */
export interface RequestKeys {
  readonly target: string;
  /** The first value of a header field, by lower-case name (http/fields.ts's Fields). */
  readonly fields: { get(name: string): string | undefined };
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
