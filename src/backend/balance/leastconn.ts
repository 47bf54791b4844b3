import type { Server } from '../server';
import type { Balancer } from './balancer';

/**
 * Least connections, weighted: the server with the fewest active sessions per unit of weight. Ties go
 * round-robin (the scan starts after the last pick), so idle servers share new sessions evenly.
 */
export class LeastConn implements Balancer {
  private next = 0;

  constructor(private readonly servers: readonly Server[]) {}

  pick(skip: ReadonlySet<Server>): Server | undefined {
    const n = this.servers.length;
    let best: Server | undefined;
    let bestIndex = 0;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const s = this.servers[i];
      if (!s.usable || skip.has(s)) continue;
      if (best === undefined || s.active * best.weight < best.active * s.weight) {
        best = s;
        bestIndex = i;
      }
    }
    this.next = (bestIndex + 1) % n;
    return best;
  }
}
