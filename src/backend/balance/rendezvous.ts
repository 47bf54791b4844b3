import { fnv1a, mix } from '../../lib/hash';
import type { Server } from '../server';

/**
 * Consistent, weighted choice of a server for a key (rendezvous hashing): every server draws a
 * score from a hash of (key, server name), scaled by its weight, and the key goes to the highest.
 * The scores do not depend on the other servers, so adding a server takes from each of the others
 * only the keys it now outscores (its share of the total weight), removing or skipping one moves
 * only its own keys (each to its runner-up), and a weight change moves keys only to or from that
 * server. Every thread and every process computes the same scores.
 */
export class Rendezvous {
  private readonly seeds: Map<Server, number>;

  constructor(private readonly servers: readonly Server[]) {
    this.seeds = new Map(servers.map((s) => [s, mix(fnv1a(s.name))]));
  }

  /** The usable server not in `skip` with the highest score for `key` (a hash from keyHash). */
  pick(key: number, skip: ReadonlySet<Server>): Server | undefined {
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

/** The hash of text[start, end) that Rendezvous.pick takes. */
export function keyHash(text: string, start = 0, end = text.length): number {
  return mix(fnv1a(text, start, end));
}

/**
 * -w / ln(u) for u uniform in (0, 1): the highest of these scores falls on each server with a
 * probability proportional to its weight.
 */
function weightedScore(hash: number, weight: number): number {
  return -weight / Math.log((hash + 0.5) / 2 ** 32);
}
