import type { Server } from '../server';
import type { Balancer, PickContext } from './balancer';
import { keyHash, Rendezvous } from './rendezvous';
import { RoundRobin } from './roundrobin';

/**
 * Source hashing, consistent and weighted: the client's address is the key of a rendezvous choice
 * (rendezvous.ts), so each client stays on one server while the servers stay. Clients without an
 * IP address (Unix sockets) are spread round-robin.
 */
export class SourceHash implements Balancer {
  private readonly scores: Rendezvous;
  private readonly fallback: RoundRobin;

  constructor(servers: readonly Server[]) {
    this.scores = new Rendezvous(servers);
    this.fallback = new RoundRobin(servers);
  }

  pick(skip: ReadonlySet<Server>, ctx: PickContext): Server | undefined {
    if (ctx.client === undefined) return this.fallback.pick(skip);
    return this.scores.pick(keyHash(unmapped(ctx.client)), skip);
  }
}

/** A client on a dual-stack socket shows as ::ffff:192.0.2.1; it is the same client as 192.0.2.1. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
