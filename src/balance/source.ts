import { fnv1a, mix } from '../hash';
import type { Server } from '../server';
import type { Balancer, PickContext } from './balancer';
import { RoundRobin } from './roundrobin';

/**
 * Source hashing, consistent and weighted (rendezvous hashing): every server draws a score from a
 * hash of (client address, server name), scaled by its weight, and the client goes to the highest.
 * The scores do not depend on the other servers, so adding a server takes from each of the others
 * only the clients it now outscores (its share of the total weight), removing or skipping one moves
 * only its own clients (each to its runner-up), and a weight change moves clients only to or from
 * that server. Every thread and every process computes the same scores. Clients without an IP
 * address (Unix sockets) are spread round-robin.
 */
export class SourceHash implements Balancer {
  private readonly seeds: Map<Server, number>;
  private readonly fallback: RoundRobin;

  constructor(private readonly servers: readonly Server[]) {
    this.seeds = new Map(servers.map((s) => [s, mix(fnv1a(s.name))]));
    this.fallback = new RoundRobin(servers);
  }

  pick(skip: ReadonlySet<Server>, ctx: PickContext): Server | undefined {
    if (ctx.client === undefined) return this.fallback.pick(skip);
    const key = mix(fnv1a(unmapped(ctx.client)));
    let best: Server | undefined;
    let bestScore = -Infinity;
    for (const s of this.servers) {
      if (!s.usable || skip.has(s)) continue;
      const score = weightedScore(mix(key ^ this.seeds.get(s)!), s.weight);
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }
}

/**
 * -w / ln(u) for u uniform in (0, 1): the highest of these scores falls on each server with a
 * probability proportional to its weight.
 */
function weightedScore(hash: number, weight: number): number {
  return -weight / Math.log((hash + 0.5) / 2 ** 32);
}

/** A client on a dual-stack socket shows as ::ffff:192.0.2.1; it is the same client as 192.0.2.1. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
