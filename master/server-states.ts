import { isDeepStrictEqual } from 'node:util';
import type { Config, ServerConfig } from '../src/config/types';
import type { ServerAdmin } from '../src/server';

/** A command the master CLI refuses, with the reason the operator reads. */
export class CommandError extends Error {}

interface Kept {
  admin: ServerAdmin;
  /** The server's configuration when the operator changed it: a setting lives as long as it does. */
  base: ServerConfig;
}

/**
 * Operators' runtime settings of servers (`disable server`, `set weight`), kept in the master so that
 * workers restarted later and the next generations start with them. A setting is dropped when a
 * reload changes or removes its server: the new configuration then says what the operator wants.
 */
export class ServerStates {
  private readonly kept = new Map<string, Kept>();

  /** Changes one server, named "backend/server" in `config`; returns the setting now in force. */
  change(config: Config, ref: string, change: Partial<Pick<ServerAdmin, 'enabled' | 'weight'>>): ServerAdmin {
    const { backend, server } = locate(config, ref);
    const key = `${backend}/${server.name}`;
    const was = this.kept.get(key)?.admin ?? { backend, server: server.name, enabled: true, weight: server.weight };
    const admin = { ...was, ...change };
    this.kept.set(key, { admin, base: server });
    return admin;
  }

  /** The settings that apply to a generation running `config`. */
  for(config: Config): ServerAdmin[] {
    return [...this.kept.values()].filter((k) => isDeepStrictEqual(configured(config, k.admin), k.base)).map((k) => k.admin);
  }

  /** Forgets the settings `config` no longer applies to; returns their "backend/server" names. */
  prune(config: Config): string[] {
    const applied = new Set(this.for(config));
    const dropped = [...this.kept].filter(([, k]) => !applied.has(k.admin)).map(([key]) => key);
    for (const key of dropped) this.kept.delete(key);
    return dropped;
  }
}

function configured(config: Config, admin: ServerAdmin): ServerConfig | undefined {
  return config.backends[admin.backend]?.servers.find((s) => s.name === admin.server);
}

function locate(config: Config, ref: string): { backend: string; server: ServerConfig } {
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
