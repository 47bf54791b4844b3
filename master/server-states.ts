import { isDeepStrictEqual } from 'node:util';
import type { CheckType, Config, ServerConfig } from '../src/config/types';
import { stateOf } from '../src/backend/server';
import type { ServerAdmin, ServerPush, ServerState } from '../src/proto/server-push';
import type { Logger } from '../src/log/log';
import { HealthRecord, type LastCheck } from './health-record';
import type { CheckResult } from './probe';
import { loadStateFile, plain, saveStateFile, type SavedSetting } from './state-file';

/** A command the master CLI refuses, with the reason the operator reads. */
export class CommandError extends Error {}

/** What an operator may change of a server. */
export type AdminChange = Partial<Pick<ServerAdmin, 'admin' | 'weight'>>;

/**
 * Something the threads must hear about a server. `from` and `to` differ when its state changed:
 * that is the one line the log gets.
 */
export interface Change {
  backend: string;
  server: string;
  from: ServerState;
  to: ServerState;
  reason: string;
}

/**
 * The level a change of state is logged at: a server going DOWN (its checks or passive detection
 * found it failing) is a problem, at warn, so that `log.level: "warn"` still shows it; the rest
 * (back UP, an operator's MAINT or DRAIN) at info.
 */
export function changeLevel(change: Change): 'warn' | 'info' {
  return change.to === 'DOWN' ? 'warn' : 'info';
}

/** A server as `show servers state` lists it. */
export interface ServerStateRow {
  backend: string;
  server: string;
  address: string;
  state: ServerState;
  admin: ServerAdmin['admin'];
  /** In force: the operator's, else the configured one. */
  weight: number;
  configuredWeight: number;
  /** What the checks say; null without checks. */
  health: 'UP' | 'DOWN' | null;
}

/** What `show stat` tells of a server's checks. */
export interface CheckStat {
  type: CheckType;
  last: LastCheck | null;
  checks: number;
  failed: number;
}

interface Entry {
  backend: string;
  /** The server's configuration when the entry was made: the entry lives as long as it says the same. */
  base: ServerConfig;
  /** The operator's setting, once there is one. */
  admin?: ServerAdmin;
  health: HealthRecord;
  /** When the server last came back into service, for slowstart. */
  since: number;
}

/**
 * Everything the master knows of servers at runtime: operators' settings (`disable`, `drain`,
 * `enable server`, `set weight`) and what the health checks found. Kept here so that workers
 * restarted later and the next generations start with them; an entry is dropped when a reload
 * changes or removes its server, because the new configuration then says what the operator wants
 * and the old checks no longer describe it.
 */
export class ServerStates {
  private readonly entries = new Map<string, Entry>();
  /** global.stateFile as last read: where the settings are saved. */
  private file: string | undefined;

  constructor(private readonly log: Logger) {}

  /**
   * Changes one server, named "backend/server" in `config`, and saves the settings to the state
   * file; `unsaved` says why they could not be.
   */
  change(config: Config, ref: string, change: AdminChange, reason: string): { admin: ServerAdmin; state: ServerState; change?: Change; unsaved?: string } {
    const { backend, server } = locate(config, ref);
    const entry = this.entry(backend, server);
    const admin: ServerAdmin = { ...(entry.admin ?? { backend, server: server.name, admin: 'ready', weight: server.weight }), ...change };
    const done = this.update(entry, () => {
      const changed = !isDeepStrictEqual(entry.admin, admin);
      entry.admin = admin;
      return changed ? reason : undefined;
    });
    const unsaved = done === undefined ? undefined : this.save(config);
    return { admin, state: stateOf(admin.admin, entry.health.up), ...(done && { change: done }), ...(unsaved !== undefined && { unsaved }) };
  }

  /**
   * Reads global.stateFile of `config` and applies its settings: at start, and after a reload whose
   * configuration names another file than before (between the two, the master holds the settings
   * itself and writes them on each change). A setting the master holds already wins over the
   * file's; a corrupt file, or a setting whose server is gone or configured differently since, is
   * logged and ignored. Returns true when it applied anything, which the workers must then hear.
   */
  restore(config: Config): boolean {
    const path = config.global.stateFile;
    if (path === this.file) return false;
    const held = this.matching(config).some((e) => e.admin !== undefined);
    this.file = path;
    if (path === undefined) return false;
    const { settings, problems } = loadStateFile(path, config);
    if (problems.length > 0) this.log.warn({ file: path, problems }, 'server state file: settings not applied');
    let applied = false;
    for (const s of settings) {
      const entry = this.entry(s.backend, config.backends[s.backend].servers.find((x) => x.name === s.server)!);
      if (entry.admin !== undefined) continue;
      entry.admin = s;
      applied = true;
      this.log.info({ file: path, backend: s.backend, server: s.server, admin: s.admin, weight: s.weight, state: stateOf(s.admin, entry.health.up) }, 'server setting restored');
    }
    // A new file gets what the master held before it.
    if (held) this.save(config);
    return applied;
  }

  /** A check by the serving generation's checker ended. */
  checked(backend: string, server: ServerConfig, result: CheckResult): Change | undefined {
    const entry = this.entry(backend, server);
    return this.update(entry, () => entry.health.result(result, server.check!));
  }

  /** A thread's passive detection took a server of `config` (the serving one) DOWN; ignored for a server without `observe`. */
  observed(config: Config, backend: string, name: string, reason: string): Change | undefined {
    const server = config.backends[backend]?.servers.find((s) => s.name === name);
    if (server?.check?.observe === undefined) return undefined;
    const entry = this.entry(backend, server);
    return this.update(entry, () => entry.health.observed(reason));
  }

  /** The settings and health that apply to a generation running `config`. */
  for(config: Config): Omit<ServerPush, 'addresses'> {
    const entries = this.matching(config);
    return {
      states: entries.flatMap((e) => e.admin ?? []),
      health: entries.map((e) => ({ backend: e.backend, server: e.base.name, up: e.health.up, since: e.since })),
    };
  }

  /** Per "backend/server" of `config` with checks: what they found so far. */
  checks(config: Config): Map<string, CheckStat> {
    const stats = new Map<string, CheckStat>();
    for (const b of Object.values(config.backends)) {
      for (const s of b.servers) {
        if (s.check === undefined) continue;
        const e = this.entries.get(`${b.name}/${s.name}`);
        const health = e !== undefined && isDeepStrictEqual(e.base, s) ? e.health : new HealthRecord();
        stats.set(`${b.name}/${s.name}`, { type: s.check.type, last: health.last ?? null, checks: health.checks, failed: health.failed });
      }
    }
    return stats;
  }

  /**
   * Forgets what `config` no longer applies to; returns the "backend/server" names whose operator
   * settings go, which the state file then forgets too.
   */
  prune(config: Config): string[] {
    const kept = new Set(this.matching(config));
    const dropped = [...this.entries].filter(([, e]) => !kept.has(e));
    for (const [key] of dropped) this.entries.delete(key);
    const settings = dropped.filter(([, e]) => e.admin !== undefined).map(([key]) => key);
    if (settings.length > 0) this.save(config);
    return settings;
  }

  /** Every server of `config`, as `show servers state` lists it: the operator's settings over the configuration, and health. */
  servers(config: Config): ServerStateRow[] {
    return Object.values(config.backends).flatMap((b) =>
      b.servers.map((s) => {
        const e = this.entries.get(`${b.name}/${s.name}`);
        const entry = e !== undefined && isDeepStrictEqual(e.base, s) ? e : undefined;
        const admin = entry?.admin?.admin ?? 'ready';
        const up = entry?.health.up ?? true;
        return {
          backend: b.name,
          server: s.name,
          address: s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`,
          state: stateOf(admin, up),
          admin,
          weight: entry?.admin?.weight ?? s.weight,
          configuredWeight: s.weight,
          health: s.check === undefined ? null : up ? 'UP' : 'DOWN',
        };
      }),
    );
  }

  /** The state file in use, if any. */
  get stateFile(): string | undefined {
    return this.file;
  }

  /** Writes the settings that differ from `config` to the state file; returns why it could not. */
  private save(config: Config): string | undefined {
    const path = this.file;
    if (path === undefined) return undefined;
    const settings: SavedSetting[] = this.matching(config)
      .filter((e) => e.admin !== undefined && (e.admin.admin !== 'ready' || e.admin.weight !== e.base.weight))
      .map((e) => ({ ...e.admin!, config: plain(e.base) }));
    try {
      saveStateFile(path, settings);
      return undefined;
    } catch (err) {
      const why = (err as Error).message;
      this.log.warn({ file: path, err: why }, 'server state file not saved: the settings hold until the master stops');
      return `not saved to ${path}: ${why}`;
    }
  }

  private matching(config: Config): Entry[] {
    return [...this.entries.values()].filter((e) => isDeepStrictEqual(configured(config, e), e.base));
  }

  /** The entry of a server as configured now: a server whose configuration changed starts afresh. */
  private entry(backend: string, server: ServerConfig): Entry {
    const key = `${backend}/${server.name}`;
    const found = this.entries.get(key);
    if (found !== undefined && isDeepStrictEqual(found.base, server)) return found;
    const entry: Entry = { backend, base: server, health: new HealthRecord(), since: 0 };
    this.entries.set(key, entry);
    return entry;
  }

  /** Applies a change that returns its reason when it changed anything; slowstart starts on the way back UP. */
  private update(entry: Entry, apply: () => string | undefined): Change | undefined {
    const from = stateOf(entry.admin?.admin ?? 'ready', entry.health.up);
    const reason = apply();
    if (reason === undefined) return undefined;
    const to = stateOf(entry.admin?.admin ?? 'ready', entry.health.up);
    if (to === 'UP' && (from === 'DOWN' || from === 'MAINT')) entry.since = Date.now();
    return { backend: entry.backend, server: entry.base.name, from, to, reason };
  }
}

function configured(config: Config, e: Entry): ServerConfig | undefined {
  return config.backends[e.backend]?.servers.find((s) => s.name === e.base.name);
}

export function locate(config: Config, ref: string): { backend: string; server: ServerConfig } {
  const parts = ref.split('/');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new CommandError(`expected BACKEND/SERVER, such as "app/s1"; found "${ref}"`);
  const [b, s] = parts;
  const backend = config.backends[b];
  if (backend === undefined) throw new CommandError(`no backend "${b}" (backends: ${Object.keys(config.backends).join(', ') || 'none'})`);
  const server = backend.servers.find((x) => x.name === s);
  if (server === undefined) {
    const names = backend.servers.map((x) => x.name).join(', ');
    throw new CommandError(`backend "${b}" has no server "${s}" (${names === '' ? 'it is a built-in service' : `servers: ${names}`})`);
  }
  return { backend: b, server };
}
