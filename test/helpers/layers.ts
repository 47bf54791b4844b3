// Small real objects for the in-process tests of one layer (test/listener, test/backend,
// test/stream): configurations through the real validation and normalization, the master's
// listening socket, a silent logger, and waiting for a condition the kernel or a socket shows.

import pino from 'pino';
import { createServerHandle, type ServerHandle } from '../../master/server-handle';
import { Backend } from '../../src/backend/backend';
import type { Server } from '../../src/backend/server';
import type { BackendConfig, Config, FrontendConfig } from '../../src/config/types';
import { validateConfig } from '../../src/config/validate';
import type { Logger } from '../../src/log/log';

/** A configuration through ferry's own validation; throws with the problems when it is not valid. */
export function configOf(raw: object): Config {
  const { config, problems } = validateConfig(raw);
  if (config === undefined) throw new Error(`invalid test configuration:\n${problems.join('\n')}`);
  return config;
}

/** Frontend "web" (never bound: only validated) in front of backend "app", as `configOf` makes them. */
export function webAndApp(app: object, web: object = {}): { frontend: FrontendConfig; backend: BackendConfig } {
  const config = configOf({ frontends: { web: { bind: ['127.0.0.1:1'], backend: 'app', ...web } }, backends: { app } });
  return { frontend: config.frontends.web, backend: config.backends.app };
}

/**
 * Backend "app" of one thread, its servers at 127.0.0.1:`port` ([name, port, extra settings]);
 * `observed` hears of a server that passive detection takes DOWN.
 */
export function backendAt(
  servers: [name: string, port: number, extra?: object][],
  settings: object = {},
  observed?: (server: Server, reason: string) => void,
): Backend {
  const app = { ...settings, servers: Object.fromEntries(servers.map(([name, port, extra]) => [name, { address: `127.0.0.1:${port}`, ...extra }])) };
  return new Backend(webAndApp(app).backend, 1, observed);
}

export const silent: Logger = pino({ level: 'silent' });

/** The master's side of a TCP receiver: a socket bound on 127.0.0.1, which a dup of it listens on. */
export function masterSocket(): { handle: ServerHandle; port: number } {
  const handle = createServerHandle('127.0.0.1', 0, 4);
  if (typeof handle === 'number') throw new Error(`cannot bind 127.0.0.1 (libuv error ${handle})`);
  const out: { port?: number } = {};
  handle.getsockname!(out);
  return { handle, port: out.port! };
}

/** Resolves once `condition` holds (checked every few ms); rejects, naming `what`, after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolves on the next `event` of `emitter`, with its first argument. */
export function next<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}
