import type { Server } from '../server';

/** Chooses a server for a new session among the usable ones not in `skip` (servers that just failed). */
export interface Balancer {
  pick(skip: ReadonlySet<Server>): Server | undefined;
}
