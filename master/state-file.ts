// global.stateFile: the operators' runtime server settings (`disable server`, `drain server`,
// `set weight`, ...) kept on disk, so that a restart (or a crash and Restart=on-failure) brings them
// back, as HAProxy's server-state-file does. The master writes the whole file on each change, to a
// temporary file renamed over it: a reader, or a crash, sees the old file or the new one, never half
// of one. Each setting is saved with the server's configuration at the time; one whose server is
// gone or configured differently since is stale, as a reload would have dropped it.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Config, ServerConfig } from '../src/config/types';
import type { AdminState, ServerAdmin } from '../src/proto/server-push';

/** The format of the file; another one is not read. */
const FORMAT = 1;
const ADMIN_STATES: readonly AdminState[] = ['ready', 'drain', 'maint'];

/** A setting as saved: the operator's say, and the server's configuration it was made for. */
export interface SavedSetting extends ServerAdmin {
  config: ServerConfig;
}

/** What a file holds that applies to a configuration, and what of it does not, in words. */
export interface Loaded {
  settings: ServerAdmin[];
  /** Why the file, or some of its settings, were not applied. */
  problems: string[];
}

/** Reads `path` for `config`: a missing file holds nothing; a corrupt one is ignored whole, said why. */
export function loadStateFile(path: string, config: Config): Loaded {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: [], problems: [] };
    return { settings: [], problems: [`cannot be read: ${(err as Error).message}`] };
  }
  let saved: SavedSetting[];
  try {
    saved = parse(text);
  } catch (err) {
    return { settings: [], problems: [`${(err as Error).message}: the whole file is ignored`] };
  }
  const settings: ServerAdmin[] = [];
  const problems: string[] = [];
  for (const s of saved) {
    const ref = `${s.backend}/${s.server}`;
    const server = config.backends[s.backend]?.servers.find((x) => x.name === s.server);
    if (server === undefined) {
      problems.push(`${ref}: no such server in the configuration: its setting (${describe(s)}) is not applied`);
    } else if (!isDeepStrictEqual(plain(server), s.config)) {
      problems.push(`${ref}: its configuration changed since the setting was saved (${changedKeys(plain(server), s.config).join(', ')}): its setting (${describe(s)}) is not applied`);
    } else {
      settings.push({ backend: s.backend, server: s.server, admin: s.admin, weight: s.weight });
    }
  }
  return { settings, problems };
}

/** Writes `settings` to `path` through a temporary file in the same directory; throws on failure. */
export function saveStateFile(path: string, settings: readonly SavedSetting[]): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const text = `${JSON.stringify({ format: FORMAT, savedAt: new Date().toISOString(), servers: settings }, null, 2)}\n`;
  try {
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // Never made, or renamed already.
    }
    throw err;
  }
}

/** The saved settings, each checked; throws with what is wrong. */
function parse(text: string): SavedSetting[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(data) || !Array.isArray(data.servers)) throw new Error('not a ferry state file: expected an object with "format" and "servers"');
  if (data.format !== FORMAT) throw new Error(`format ${JSON.stringify(data.format)}, not ${FORMAT}: written by another version of ferry`);
  return data.servers.map((entry, i) => {
    const where = `servers[${i}]`;
    if (!isRecord(entry)) throw new Error(`${where} is not an object`);
    const { backend, server, admin, weight, config } = entry;
    if (typeof backend !== 'string' || typeof server !== 'string') throw new Error(`${where} lacks "backend" or "server"`);
    if (!ADMIN_STATES.includes(admin as AdminState)) throw new Error(`${where}.admin is ${JSON.stringify(admin)}, not one of ${ADMIN_STATES.join(', ')}`);
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 256) throw new Error(`${where}.weight is ${JSON.stringify(weight)}, not an integer from 0 to 256`);
    if (!isRecord(config)) throw new Error(`${where} lacks the server's "config"`);
    return { backend, server, admin: admin as AdminState, weight, config: config as unknown as ServerConfig };
  });
}

/** A server's configuration as it reads back from JSON (no undefined members). */
export function plain(server: ServerConfig): ServerConfig {
  return JSON.parse(JSON.stringify(server)) as ServerConfig;
}

function changedKeys(now: ServerConfig, then: ServerConfig): string[] {
  const keys = new Set([...Object.keys(now), ...Object.keys(then)]);
  const a = now as unknown as Record<string, unknown>;
  const b = then as unknown as Record<string, unknown>;
  return [...keys].filter((k) => !isDeepStrictEqual(a[k], b[k]));
}

function describe(s: ServerAdmin): string {
  return `${s.admin}, weight ${s.weight}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
