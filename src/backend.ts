import type { BackendConfig } from './config/types';
import { createBalancer, type Balancer } from './balance';
import { Server, type ServerSettings } from './server';
import { services, type Service } from './services';

/** A backend as one thread runs it: its servers with this thread's counters, or a built-in service. */
export class Backend {
  readonly name: string;
  readonly servers: Server[];
  private readonly balancer: Balancer;
  /** Over the backup servers, used only when no normal server is usable. */
  private readonly backups: Balancer;
  /** Some server's weight is still ramping up (slowstart): picks bring it up to date. */
  private ramping = false;
  readonly service?: Service;
  /** This thread's sessions on the backend now, and since start. */
  current = 0;
  total = 0;

  constructor(
    readonly config: BackendConfig,
    /** Told when passive detection takes a server DOWN in this thread. */
    observed?: (server: Server, reason: string) => void,
  ) {
    this.name = config.name;
    this.servers = config.servers.map((s) => new Server(s, observed));
    this.balancer = createBalancer(config.balance, this.servers.filter((s) => !s.backup));
    this.backups = createBalancer(config.balance, this.servers.filter((s) => s.backup));
    if (config.service !== undefined) this.service = services[config.service];
  }

  /**
   * The server for a new session, among the usable ones not in `skip`; undefined when none is. A
   * backup server only when no normal one is left: none is usable, or every usable one has just
   * failed this session (`skip`).
   */
  pick(skip: ReadonlySet<Server>): Server | undefined {
    if (this.ramping) this.ramp(Date.now());
    return this.balancer.pick(skip) ?? this.backups.pick(skip);
  }

  /** Takes the master's settings and health of this backend's servers. */
  settle(settings: ServerSettings): void {
    for (const s of this.servers) {
      const admin = settings.states.find((a) => a.backend === this.name && a.server === s.name);
      if (admin !== undefined) s.administer(admin);
      s.checked(settings.health.find((h) => h.backend === this.name && h.server === s.name));
    }
    this.ramp(Date.now());
  }

  /** Brings slowstart's weights up to `now`. */
  ramp(now: number): void {
    this.ramping = this.servers.reduce((any, s) => s.ramp(now) || any, false);
  }
}
