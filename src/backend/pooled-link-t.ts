// What a server's pool (pool.ts) needs of an idle connection, as a type apart from the code that
// makes one: http/server-link.ts's ServerLink is one, and it knows its Server, whose pool this is.
// Were pool.ts to import ServerLink, backend/ would import http/, and server.ts -> pool.ts ->
// server-link.ts -> server.ts would be a cycle.
import type { Socket } from 'node:net';

export interface PooledLink {
  /** Whether the pool holds it now. */
  parked: boolean;
  /** Still open: worth keeping, or handing out. */
  readonly alive: boolean;
  readonly socket: Socket;
  /**
   * The client connection it belongs to: one that sent a server a PROXY header speaks for that
   * client only, and goes to no other. Undefined: any client's requests may use it.
   */
  readonly owner?: object;
  /** Whoever uses it; the pool only clears it, an idle connection having no user. */
  user: unknown;
  /** Closes it: the pool is cleared (the thread stops). */
  destroy(reason: 'final'): void;
}
