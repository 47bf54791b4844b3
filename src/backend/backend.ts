import type { BackendConfig } from '../config/types';
import { createBalancer, type Balancer, type PickContext } from './balance';
import { Queue } from './queue';
import { Server } from './server';
import { Traffic } from '../lib/traffic';
import type { ServerPush } from '../proto/server-push';
import { httpServiceOf, noMaster, services, type AskMaster, type HttpService, type Service } from '../services';

const NONE: ReadonlySet<Server> = new Set();

/**
 * A backend as one thread runs it: its servers with this thread's counters and slots, the queue of
 * sessions waiting for a slot, or a built-in service.
 */
export class Backend {
  readonly name: string;
  readonly servers: Server[];
  private readonly balancer: Balancer;
  /** Over the backup servers, used only when no normal server is usable. */
  private readonly backups: Balancer;
  /** Some server's weight is still ramping up (slowstart): picks bring it up to date. */
  private ramping = false;
  readonly service?: Service;
  /** Answers HTTP requests in place of servers (HTTP mode). */
  readonly httpService?: HttpService;
  /** Sessions waiting for a server slot, because every usable server is full or none is usable. */
  readonly queue = new Queue();
  /** This thread's sessions on the backend now, and since start. */
  current = 0;
  total = 0;
  /** HTTP requests this thread sent to the backend (HTTP mode). */
  requests = 0;
  /** Of `total`, the sessions handed over from an older generation: counted there already. */
  adopted = 0;
  /** Bytes, HTTP status classes and times of the sessions and requests that ended on this thread. */
  readonly traffic = new Traffic();
  /** Some server has a maxconn: only then can one be full. */
  private readonly limited: boolean;

  constructor(
    readonly config: BackendConfig,
    /** Threads of the whole service, which share each server's maxconn. */
    threads: number,
    /** Told when passive detection takes a server DOWN in this thread. */
    observed?: (server: Server, reason: string) => void,
    /** How the `stats` service reaches the master. */
    ask: AskMaster = noMaster,
  ) {
    this.name = config.name;
    this.servers = config.servers.map((s) => new Server(s, threads, observed));
    this.limited = this.servers.some((s) => s.maxconn !== undefined);
    this.balancer = createBalancer(config.balance, this.servers.filter((s) => !s.backup));
    this.backups = createBalancer(config.balance, this.servers.filter((s) => s.backup));
    if (config.service === 'echo' || config.service === 'hello') this.service = services[config.service];
    this.httpService = httpServiceOf(config, ask);
  }

  /**
   * The server for a new session, among the usable ones with a free slot and not in `skip`;
   * undefined when none is. The balancers never see a full server. A backup server only when no
   * normal one is left: none is usable, or every usable one has just failed this session (`skip`).
   * Normal servers that are only full mean waiting in the queue, as in HAProxy.
   */
  pick(skip: ReadonlySet<Server>, ctx: PickContext): Server | undefined {
    if (this.ramping) this.ramp(Date.now());
    const open = this.limited && this.servers.some((s) => s.full) ? new Set([...skip, ...this.servers.filter((s) => s.full)]) : skip;
    const normal = this.balancer.pick(open, ctx);
    if (normal !== undefined || this.servers.some((s) => !s.backup && s.usable && !skip.has(s))) return normal;
    return this.backups.pick(open, ctx);
  }

  /** The server for a session that just came, unless others wait before it: nobody jumps the queue. */
  admit(ctx: PickContext): Server | undefined {
    return this.queue.length === 0 ? this.pick(NONE, ctx) : undefined;
  }

  /**
   * Serves the queue, first come first served, while a usable server has a free slot. Whatever may
   * make a slot usable calls it: a session leaving a server, and any change of a server's
   * settings, health or address.
   */
  dispatch(): void {
    for (let head = this.queue.head; head !== undefined; head = this.queue.head) {
      const server = this.pick(NONE, head.pickContext);
      if (server === undefined) return;
      server.fromQueue++;
      this.queue.shift()!.served(server);
    }
  }

  /** Takes the master's settings, health and addresses of this backend's servers, then serves the queue. */
  settle(settings: ServerPush): void {
    const mine = (r: { backend: string; server: string }, s: Server): boolean => r.backend === this.name && r.server === s.name;
    for (const s of this.servers) {
      const admin = settings.states.find((a) => mine(a, s));
      if (admin !== undefined) s.administer(admin);
      s.checked(settings.health.find((h) => mine(h, s)));
      const address = settings.addresses.find((a) => mine(a, s));
      if (address !== undefined) s.resolved(address);
    }
    this.ramp(Date.now());
    this.dispatch();
  }

  /** Brings slowstart's weights up to `now`. */
  ramp(now: number): void {
    this.ramping = this.servers.reduce((any, s) => s.ramp(now) || any, false);
  }
}
