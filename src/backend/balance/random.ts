import type { Server } from '../server';
import type { Balancer } from './balancer';

/**
 * Power of `draws` choices: draws servers at random, each with a probability proportional to its
 * weight, and takes the one with the fewest active sessions per unit of weight (the first drawn on a
 * tie). With 2 draws the load stays close to leastconn's while no state is kept between picks, and a
 * loaded server still gets a session now and then rather than none at all.
 */
export class RandomDraws implements Balancer {
  constructor(
    private readonly servers: readonly Server[],
    private readonly draws: number,
  ) {}

  pick(skip: ReadonlySet<Server>): Server | undefined {
    let total = 0;
    for (const s of this.servers) if (this.candidate(s, skip)) total += s.weight;
    if (total === 0) return undefined;
    let best: Server | undefined;
    for (let d = 0; d < this.draws; d++) {
      const s = this.draw(skip, Math.random() * total);
      if (best === undefined || s.active * best.weight < best.active * s.weight) best = s;
    }
    return best;
  }

  /** The candidate whose share of the weight line contains `at` (0 <= at < the candidates' total weight). */
  private draw(skip: ReadonlySet<Server>, at: number): Server {
    let last: Server | undefined;
    for (const s of this.servers) {
      if (!this.candidate(s, skip)) continue;
      last = s;
      at -= s.weight;
      if (at < 0) return s;
    }
    // Only rounding can get here, and then the last candidate is the one meant.
    return last!;
  }

  private candidate(s: Server, skip: ReadonlySet<Server>): boolean {
    return s.usable && !skip.has(s);
  }
}
