import type { BackendConfig } from './config/types';
import { createBalancer, type Balancer, type PickContext } from './balance';
import { Queue } from './queue';
import { Server } from './server';
import { services, type Service } from './services';

const NONE: ReadonlySet<Server> = new Set();

/**
 * A backend as one thread runs it: its servers with this thread's counters and slots, the queue of
 * sessions waiting for a slot, or a built-in service.
 */
export class Backend {
  readonly name: string;
  readonly servers: Server[];
  private readonly balancer: Balancer;
  readonly service?: Service;
  /** Sessions waiting for a server slot, because every usable server is full or none is usable. */
  readonly queue = new Queue();
  /** This thread's sessions on the backend now, and since start. */
  current = 0;
  total = 0;
  /** Some server has a maxconn: only then can one be full. */
  private readonly limited: boolean;

  constructor(
    readonly config: BackendConfig,
    /** Threads of the whole service, which share each server's maxconn. */
    threads: number,
  ) {
    this.name = config.name;
    this.servers = config.servers.map((s) => new Server(s, threads));
    this.limited = this.servers.some((s) => s.maxconn !== undefined);
    this.balancer = createBalancer(config.balance, this.servers);
    if (config.service !== undefined) this.service = services[config.service];
  }

  /**
   * The server for a new session, among the usable ones with a free slot and not in `skip`;
   * undefined when none is. The balancer never sees a full server.
   */
  pick(skip: ReadonlySet<Server>, ctx: PickContext): Server | undefined {
    if (!this.limited || !this.servers.some((s) => s.full)) return this.balancer.pick(skip, ctx);
    return this.balancer.pick(new Set([...skip, ...this.servers.filter((s) => s.full)]), ctx);
  }

  /** The server for a session that just came, unless others wait before it: nobody jumps the queue. */
  admit(ctx: PickContext): Server | undefined {
    return this.queue.length === 0 ? this.pick(NONE, ctx) : undefined;
  }

  /**
   * Serves the queue, first come first served, while a usable server has a free slot. Whatever may
   * make a slot usable calls it: a session leaving a server, and any change of a server's
   * settings or state.
   */
  dispatch(): void {
    for (let head = this.queue.head; head !== undefined; head = this.queue.head) {
      const server = this.pick(NONE, head.pickContext);
      if (server === undefined) return;
      server.fromQueue++;
      this.queue.shift()!.served(server);
    }
  }
}
