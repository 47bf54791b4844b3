import type { Config, ServerConfig } from '../src/config/types';
import type { ResolvedAddress } from '../src/proto/server-push';
import { probe, type CheckResult } from './probe';

export type CheckReport = (backend: string, server: ServerConfig, result: CheckResult) => void;

/**
 * The health checks of one generation's configuration, run in the master: one check at a time per
 * server, however many workers and threads there are. Results go to `report`; what they mean for
 * the server's state is ServerStates' business. The master runs only the serving generation's
 * checker and stops it when the generation is retired or stopped.
 */
export class HealthChecker {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<() => void>();
  private started = false;

  constructor(
    private readonly config: Config,
    private readonly report: CheckReport,
    /** Where a server given by host name is now: checks go where the traffic goes. */
    private readonly resolved: (backend: string, server: string) => ResolvedAddress | undefined = () => undefined,
  ) {}

  /** The servers it checks: those with a check configured. */
  get servers(): { backend: string; server: ServerConfig }[] {
    return Object.values(this.config.backends).flatMap((b) => b.servers.filter((s) => s.check !== undefined).map((server) => ({ backend: b.name, server })));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const servers = this.servers;
    // The first checks are spread over one interval: many servers are not checked in one burst.
    servers.forEach(({ backend, server }, i) => this.after(Math.floor((server.check!.interval * i) / servers.length), backend, server));
  }

  /** No check starts any more, and those under way are abandoned. */
  stop(): void {
    this.started = false;
    for (const timer of this.timers) clearTimeout(timer);
    for (const cancel of this.running) cancel();
    this.timers.clear();
    this.running.clear();
  }

  /** The next check of a server starts `delay` ms after the previous one ended: checks never overlap. */
  private after(delay: number, backend: string, server: ServerConfig): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.check(backend, server);
    }, delay);
    this.timers.add(timer);
  }

  private check(backend: string, server: ServerConfig): void {
    const where = this.resolved(backend, server.name);
    if (where?.unresolvable !== undefined) {
      this.report(backend, server, { ok: false, result: where.unresolvable, ms: 0 });
      return this.after(server.check!.interval, backend, server);
    }
    const cancel = probe(server, where?.address ?? server.host, server.check!, (result) => {
      this.running.delete(cancel);
      this.report(backend, server, result);
      if (this.started) this.after(server.check!.interval, backend, server);
    });
    this.running.add(cancel);
  }
}
