import type { BackendConfig } from './config/types';
import { createBalancer, type Balancer, type PickContext } from './balance';
import { Server } from './server';
import { services, type Service } from './services';

/** A backend as one thread runs it: its servers with this thread's counters, or a built-in service. */
export class Backend {
  readonly name: string;
  readonly servers: Server[];
  private readonly balancer: Balancer;
  readonly service?: Service;
  /** This thread's sessions on the backend now, and since start. */
  current = 0;
  total = 0;

  constructor(readonly config: BackendConfig) {
    this.name = config.name;
    this.servers = config.servers.map((s) => new Server(s));
    this.balancer = createBalancer(config.balance, this.servers);
    if (config.service !== undefined) this.service = services[config.service];
  }

  /** The server for a new session, among the usable ones not in `skip`; undefined when none is. */
  pick(skip: ReadonlySet<Server>, ctx: PickContext): Server | undefined {
    return this.balancer.pick(skip, ctx);
  }
}
