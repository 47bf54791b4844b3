// haproxy with one thread (--groups x --threads: more, nbthread), in TCP mode (HTTP mode for the http measurement):
// the reference for what a mature single-threaded C proxy does on the same box.

import { onProxyCpu } from '../lib/affinity';
import { Brood } from '../lib/brood';
import { waitForChild } from '../lib/first-child';
import { freePort } from '../lib/free-port';
import { startProc, stopProc } from '../lib/proc';
import { tempPath, writeTempFile } from '../lib/temp';
import { unixRequest } from '../lib/unix-request';
import { waitForPort } from '../lib/wait-port';
import { which } from '../lib/which';
import type { Contender, ContenderKind, ReloadableContender } from './contender';

const START_TIMEOUT_MS = 10_000;

/**
 * http: HTTP/1.1 keep-alive on both sides, which is haproxy's default
 * (`option http-keep-alive`) with the default `http-reuse safe`: idle server
 * connections are shared between client connections, except for a client
 * connection's first request. No `option forwardfor`, no logging.
 */
export type HaproxyMode = 'tcp' | 'http';

// maxconn leaves room for up to 9,000 tunnels (two fds each) under a 20,000 fd limit;
// long timeouts so idle tunnels in the memory test are never reaped (and, in http
// mode, idle keep-alive connections).
function config(port: number, backendPort: number, mode: HaproxyMode, threads: number): string {
  return `global
  nbthread ${threads}
  maxconn 9000

defaults
  mode ${mode}
  maxconn 9000
  timeout connect 5s
  timeout client 5m
  timeout server 5m
${mode === 'http' ? '  timeout http-keep-alive 5m\n' : ''}
frontend bench
  bind 127.0.0.1:${port}
  default_backend b

backend b
  server s1 127.0.0.1:${backendPort}
`;
}

function binary(): string {
  return which('haproxy') ?? 'haproxy';
}

/** `threads`: nbthread, each on a core of its own where the machine has them. */
export async function startHaproxy(name: string, backendPort: number, mode: HaproxyMode, threads = 1): Promise<Contender> {
  const port = await freePort();
  const file = writeTempFile('haproxy.cfg', config(port, backendPort, mode, threads));
  // -db keeps it in the foreground as a single process we can signal and measure.
  const [command, args] = onProxyCpu(binary(), ['-db', '-f', file], threads);
  const proc = startProc(name, command, args);
  await waitForPort(port, proc);
  return { name, port, dataPid: proc.pid, stop: () => stopProc(proc) };
}

/** The master's line of `show proc`: "<pid> master <reloads> [failed: N] <uptime> <version>". */
function masterReloads(showProc: string): number {
  const match = /^\s*\d+\s+master\s+(\d+)/m.exec(showProc);
  if (match === null) throw new Error(`haproxy master CLI: no master line in "show proc":\n${showProc}`);
  return Number(match[1]);
}

/**
 * Master-worker mode (-W), still in the foreground (-db) so the bench owns
 * the master; -S gives it the master CLI, whose "reload" re-executes the
 * master, which starts a new worker and lets the old one finish its
 * connections. SIGTERM to the master stops every worker. `mode` as for
 * startHaproxy: tcp in the reload measurement, either in reload-storm.
 */
export async function startHaproxyReloadable(name: string, backendPort: number, mode: HaproxyMode, threads = 1): Promise<ReloadableContender> {
  const port = await freePort();
  const file = writeTempFile('haproxy.cfg', config(port, backendPort, mode, threads));
  const cli = tempPath('haproxy-master.sock');
  const [command, args] = onProxyCpu(binary(), ['-W', '-db', '-S', cli, '-f', file], threads);
  const master = startProc(name, command, args);
  const worker = await waitForChild(master, START_TIMEOUT_MS);
  const brood = new Brood(master.pid);
  brood.adopt();
  await waitForPort(port, master);
  return {
    name,
    port,
    dataPid: worker,
    rootPid: master.pid,
    reload: async () => {
      brood.adopt();
      await unixRequest(cli, 'reload');
    },
    reloadsDone: async () => {
      brood.adopt();
      return masterReloads(await unixRequest(cli, 'show proc'));
    },
    stop: async () => {
      brood.adopt();
      await stopProc(master);
      brood.killSurvivors();
    },
  };
}

export function haproxyUnavailable(): string | null {
  return which('haproxy') === null ? 'haproxy not on PATH (bench/install-tools.sh installs it)' : null;
}

/** `threads`: as many as ferry's workers (--groups x --threads). */
export function haproxyKind(threads: number): ContenderKind {
  return {
    kind: 'haproxy',
    unavailable: haproxyUnavailable,
    start: (name, backendPort) => startHaproxy(name, backendPort, 'tcp', threads),
    startReloadable: (name, backendPort) => startHaproxyReloadable(name, backendPort, 'tcp', threads),
  };
}
