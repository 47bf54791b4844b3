import type { Server } from '../server';
import type { Balancer } from './balancer';

/**
 * Smooth weighted round-robin: each pick raises every candidate's score by its weight and takes the
 * highest, which then pays the sum of weights back. Weights 1 and 2 give s2 s1 s2 s2 s1 s2 …, spread
 * out rather than in bursts.
 */
export class RoundRobin implements Balancer {
  constructor(private readonly servers: readonly Server[]) {}

  pick(skip: ReadonlySet<Server>): Server | undefined {
    let best: Server | undefined;
    let sum = 0;
    for (const s of this.servers) {
      if (!s.usable || skip.has(s)) continue;
      s.current += s.weight;
      sum += s.weight;
      if (best === undefined || s.current > best.current) best = s;
    }
    if (best !== undefined) best.current -= sum;
    return best;
  }
}
