import { isIP } from 'node:net';
import { formatProblem, problem } from '../src/config/problems';
import type { Config } from '../src/config/types';
import type { Logger } from '../src/log/log';
import type { ResolvedAddress } from '../src/proto/server-push';
import { resolveName } from './resolve-name';

/** One host name as the servers of a configuration use it, with the nameservers to ask. */
interface Name {
  key: string;
  host: string;
  nameservers?: string[];
  servers: { backend: string; server: string }[];
  /** How often to resolve it again: the shortest resolve.interval of the backends that use it. */
  interval?: number;
}

/** The last address a name resolved to, and why it does not resolve now. */
interface Known {
  address: string;
  error?: string;
}

/**
 * The addresses of servers given by host name, found in the master only: at start and on reload
 * (a name that does not resolve then is a configuration problem), and every resolve.interval
 * after that. Workers get the addresses with the operators' server settings (ServerPush); a change
 * is logged and reaches every worker at once. Sessions already connected keep their connection;
 * new ones go to the new address. A name that stops resolving makes its servers unusable, with the
 * reason, until it resolves again.
 */
export class ServerAddresses {
  private readonly known = new Map<string, Known>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Lookups started for an earlier watch are ignored when they end. */
  private watching: object = {};

  constructor(
    private readonly log?: Logger,
    /** Called after an address changed, or a name stopped or started resolving. */
    private readonly changed: () => void = () => {},
  ) {}

  /** Resolves every server host name of `config` now; returns a problem for each server whose name does not resolve. */
  async resolve(config: Config): Promise<string[]> {
    const outcomes = await Promise.all(
      namesOf(config).map(async (name) => {
        const found = await resolveName(name.host, name.nameservers);
        if (found.ok) return { news: this.learn(name, found.value), problems: [] };
        return { news: false, problems: name.servers.map((s) => formatProblem(problem(['backends', s.backend, 'servers', s.server], found.error))) };
      }),
    );
    if (outcomes.some((o) => o.news)) this.changed();
    return outcomes.flatMap((o) => o.problems);
  }

  /** The addresses of `config`'s servers given by host name, for the workers running it. */
  for(config: Config): ResolvedAddress[] {
    return namesOf(config).flatMap((name) => {
      const known = this.known.get(name.key);
      if (known === undefined) return [];
      return name.servers.map((s) => ({ ...s, address: known.address, ...(known.error !== undefined && { unresolvable: known.error }) }));
    });
  }

  /** From now on resolves the names of `config` again at their backends' resolve.interval; replaces any earlier watch. */
  watch(config: Config): void {
    this.stop();
    const watching = this.watching;
    for (const name of namesOf(config)) if (name.interval !== undefined) this.schedule(name, watching);
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.watching = {};
  }

  private schedule(name: Name, watching: object): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.refresh(name, watching);
    }, name.interval);
    this.timers.add(timer);
  }

  private async refresh(name: Name, watching: object): Promise<void> {
    const found = await resolveName(name.host, name.nameservers);
    if (watching !== this.watching) return;
    if (found.ok ? this.learn(name, found.value) : this.fail(name, found.error)) this.changed();
    this.schedule(name, watching);
  }

  /**
   * Takes a name's current addresses. The address in use stays while it is among them (a DNS
   * server that rotates its answers does not move anyone); otherwise the first one is taken.
   * Returns whether anything changed.
   */
  private learn(name: Name, addresses: string[]): boolean {
    const was = this.known.get(name.key);
    const address = was !== undefined && addresses.includes(was.address) ? was.address : addresses[0];
    this.known.set(name.key, { address });
    if (was !== undefined && was.error === undefined && was.address === address) return false;
    for (const s of name.servers) {
      if (was === undefined || was.error !== undefined) this.log?.info({ ...s, host: name.host, address }, 'server address resolved');
      else this.log?.info({ ...s, host: name.host, from: was.address, to: address }, 'server address changed');
    }
    return true;
  }

  /** A watched name stopped resolving: its servers take no new sessions. Returns whether that is news. */
  private fail(name: Name, error: string): boolean {
    // Every watched name resolved before its watch began.
    const was = this.known.get(name.key)!;
    if (was.error === error) return false;
    this.known.set(name.key, { address: was.address, error });
    for (const s of name.servers) this.log?.warn({ ...s, host: name.host, reason: error }, 'server unresolvable: it takes no new sessions');
    return true;
  }
}

/** The host names `config`'s servers use, each once per set of nameservers, in configuration order. */
function namesOf(config: Config): Name[] {
  const names = new Map<string, Name>();
  for (const backend of Object.values(config.backends)) {
    const { nameservers, interval } = backend.resolve ?? {};
    for (const server of backend.servers) {
      if (isIP(server.host) !== 0) continue;
      const key = `${server.host} ${nameservers?.join(',') ?? 'system'}`;
      const name = names.get(key) ?? { key, host: server.host, ...(nameservers !== undefined && { nameservers }), servers: [] };
      name.servers.push({ backend: backend.name, server: server.name });
      if (interval !== undefined) name.interval = Math.min(interval, name.interval ?? interval);
      names.set(key, name);
    }
  }
  return [...names.values()];
}
