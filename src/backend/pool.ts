import type { PoolConfig } from '../config/types';
import type { PooledLink } from './pooled-link-t';
import { restartTimeout } from '../conn/stream-handle';

/**
 * One server's idle HTTP connections in one thread, reused by requests of any client connection.
 * The most recently parked goes out first: it is the least likely to have been closed by the server
 * meanwhile, and the ones left at the bottom idle out.
 */
export class ConnectionPool {
  private readonly idle: PooledLink[] = [];
  /** Where what parks here goes once this pool was handed over (a reload in place), and how a link moves there. */
  private successor: { pool: ConnectionPool; move: (link: PooledLink) => void } | undefined;
  /** Requests sent on a reused connection, and connections parked since start. */
  reused = 0;
  parked = 0;

  constructor(private readonly config: PoolConfig) {}

  get size(): number {
    return this.idle.length;
  }

  /**
   * An idle connection of `owner` (undefined: one that belongs to no client) that still looks open,
   * or undefined. Without owners the search ends at the top of the pile, as a pop would.
   */
  take(owner?: object): PooledLink | undefined {
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const link = this.idle[i];
      if (link.owner !== owner) continue;
      this.idle.splice(i, 1);
      link.parked = false;
      if (link.alive) {
        this.reused++;
        return link;
      }
    }
    return undefined;
  }

  /** Keeps `link` for reuse; false when the pool is full (the caller closes it). */
  park(link: PooledLink): boolean {
    if (this.successor !== undefined) {
      this.successor.move(link);
      return this.successor.pool.park(link);
    }
    if (this.idle.length >= this.config.maxIdle || !link.alive) return false;
    link.user = undefined;
    link.parked = true;
    restartTimeout(link.socket, this.config.idleTimeout);
    this.idle.push(link);
    this.parked++;
    return true;
  }

  remove(link: PooledLink): void {
    const at = this.idle.indexOf(link);
    if (at !== -1) this.idle.splice(at, 1);
    link.parked = false;
  }

  /**
   * A reload in place: the same server in the next generation's stack takes the idle connections,
   * and those parked here from now on (requests under way when the reload came). `move` makes a
   * link belong to `pool`'s server. The next generation's streams then reuse them rather than connect.
   */
  handOver(pool: ConnectionPool, move: (link: PooledLink) => void): void {
    this.successor = { pool, move };
    for (const link of this.idle.splice(0)) {
      link.parked = false;
      if (!this.park(link)) link.destroy('final');
    }
  }

  /** Closes every idle connection (the thread stops). A pool handed over keeps forwarding: an older one may still forward to it. */
  clear(): void {
    for (const link of this.idle.splice(0)) {
      link.parked = false;
      link.destroy('final');
    }
  }
}
