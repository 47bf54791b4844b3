// ferry itself, one group and one thread (--groups, --threads: more), started
// through its CLI exactly as a user would. The master forks the workers (one
// per group) that carry the tunnels; they inherit the master's CPU pinning,
// one core per thread where the machine has them.
//
// Readiness: the master logs "ready" only at info level, so with the quiet
// "warn" level used for measuring (no per-connection access log) we instead
// wait until the worker process exists and the port accepts. Connections that
// arrive before the worker takes them queue in the backlog, and every trial
// warms up before its clock starts. With --ferry-log info the "ready" line is
// awaited instead.

import fs from 'node:fs';
import { onProxyCpu } from '../lib/affinity';
import { Brood } from '../lib/brood';
import { isAlive, trackPid, untrackPid } from '../lib/children';
import { waitForChild, waitForChildren } from '../lib/first-child';
import { freePort, freeUdpPort } from '../lib/free-port';
import { startProc, stopProc, type Proc } from '../lib/proc';
import { writeTempFile, tempPath } from '../lib/temp';
import { waitForLine } from '../lib/wait-line';
import { waitForPort } from '../lib/wait-port';
import { waitForUdp } from '../lib/wait-udp';
import type { Contender, ContenderKind, ReloadableContender } from './contender';

const START_TIMEOUT_MS = 20_000;
const VERBOSE_LEVELS = ['info', 'debug', 'trace'];

export interface FerrySettings {
  cli: string;
  logLevel: string;
  /** The `ferry-base` contender's build (--ferry-base); absent or '' when none. */
  base?: string;
  /** Thread groups (worker processes) and threads in each (--groups, --threads); 1 when absent. */
  groups?: number;
  threads?: number;
}

export interface Size {
  readonly groups: number;
  readonly threads: number;
}

export function sizeOf(settings: FerrySettings): Size {
  return { groups: settings.groups ?? 1, threads: settings.threads ?? 1 };
}

/** Threads in all: the cores ferry is given, and haproxy's nbthread beside it. */
export function workersOf(settings: FerrySettings): number {
  const { groups, threads } = sizeOf(settings);
  return groups * threads;
}

export interface Launched {
  readonly master: Proc;
  /** The first group's worker. */
  readonly worker: number;
  /** Every group's worker. */
  readonly workers: readonly number[];
  readonly port: number;
}

/** The text of a ferry config file that listens on `port`, with `size` workers (1 x 1 when absent). */
export type FerryConfig = (port: number, backendPort: number, logLevel: string, size?: Size) => string;

/** One frontend in `mode` (tcp: the byte relay every measurement but http uses) to one server. */
export function proxyConfig(mode: 'tcp' | 'http'): FerryConfig {
  return (port, backendPort, logLevel, { groups, threads } = { groups: 1, threads: 1 }) => JSON.stringify({
    // A master socket of its own, so a ferry running elsewhere on the machine never gets in the way.
    global: { groups, threads, log: { level: logLevel }, masterSocket: tempPath('ferry-master.sock') },
    // HTTP mode: idle keep-alive clients stay as long as haproxy's (timeout http-keep-alive 5m).
    frontends: { bench: { mode, bind: [`127.0.0.1:${port}`], backend: 'b', timeout: { client: '5m', ...(mode === 'http' && { httpKeepAlive: '5m' }) } } },
    backends: { b: { servers: { s1: { address: `127.0.0.1:${backendPort}` } }, timeout: { server: '5m' } } },
  }, null, 2);
}

function isLogLine(line: string, msg: string): boolean {
  if (!line.includes(`"${msg}"`)) return false;
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === msg;
  } catch {
    return false;
  }
}

/** `env`: the master's environment (and so its workers'), when not the bench's own. */
export async function launch(settings: FerrySettings, name: string, backendPort: number, makeConfig: FerryConfig = proxyConfig('tcp'), env?: NodeJS.ProcessEnv): Promise<Launched> {
  const port = await freePort();
  const file = writeTempFile('ferry.json', makeConfig(port, backendPort, settings.logLevel, sizeOf(settings)));
  const [command, args] = onProxyCpu(process.execPath, [settings.cli, 'start', '-c', file], workersOf(settings));
  const master = startProc(name, command, args, env === undefined ? {} : { env });
  if (VERBOSE_LEVELS.includes(settings.logLevel)) {
    await waitForLine(master, (line) => isLogLine(line, 'ready'), START_TIMEOUT_MS, '"msg":"ready" log line');
  }
  const workers = await waitForChildren(master, sizeOf(settings).groups, START_TIMEOUT_MS);
  for (const pid of workers) trackPid(pid);
  await waitForPort(port, master);
  return { master, worker: workers[0]!, workers, port };
}

export async function stopFerry(master: Proc, workers: readonly number[]): Promise<void> {
  await stopProc(master, 5000);
  // A worker that outlived its master would hold the port and skew later trials.
  for (const pid of workers) {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    untrackPid(pid);
  }
}

/** A launched ferry as a contender: CPU and RSS count every group's worker. */
export function contenderOf(name: string, { master, worker, workers, port }: Launched): Contender {
  return { name, port, dataPid: worker, workers, stop: () => stopFerry(master, workers) };
}

async function start(settings: FerrySettings, name: string, backendPort: number): Promise<Contender> {
  return contenderOf(name, await launch(settings, name, backendPort));
}

/**
 * At info level the master confirms each reload with a "reload done" line,
 * which is the only way to tell reloads done from SIGHUPs folded into one.
 */
async function startReloadable(settings: FerrySettings, name: string, backendPort: number): Promise<ReloadableContender> {
  const logLevel = VERBOSE_LEVELS.includes(settings.logLevel) ? settings.logLevel : 'info';
  const launched = await launch({ ...settings, logLevel }, name, backendPort);
  let done = 0;
  launched.master.lines.on('line', (line: string) => {
    if (isLogLine(line, 'reload done')) done += 1;
  });
  return reloadable(name, launched, async () => done);
}

/**
 * A launched ferry as a reloadable contender: SIGHUP reloads it, `reloadsDone` counts the reloads it
 * finished, and stopping it reaps every worker it forked, those of earlier generations included.
 */
export function reloadable(name: string, { master, worker, port }: Launched, reloadsDone: () => Promise<number>): ReloadableContender {
  const brood = new Brood(master.pid);
  brood.adopt();
  return {
    name,
    port,
    dataPid: worker,
    rootPid: master.pid,
    reload: async () => {
      brood.adopt();
      process.kill(master.pid, 'SIGHUP');
    },
    reloadsDone: async () => {
      brood.adopt();
      return reloadsDone();
    },
    stop: async () => {
      brood.adopt();
      await stopProc(master, 5000);
      brood.killSurvivors();
    },
  };
}

function udpConfig(port: number, backendPort: number, groups: number, threads: number, logLevel: string): string {
  return JSON.stringify({
    global: { groups, threads, log: { level: logLevel }, masterSocket: tempPath('ferry-master.sock') },
    frontends: { bench: { mode: 'udp', bind: [`udp@127.0.0.1:${port}`], backend: 'b', timeout: { flow: '5m' } } },
    backends: { b: { servers: { s1: { address: `127.0.0.1:${backendPort}` } } } },
  }, null, 2);
}

/**
 * ferry relaying UDP with `groups` worker processes of `threads` threads each. Ready once a probe makes the
 * round trip to the echo backend. dataPid is the master: the measurement counts its whole tree.
 */
export async function startFerryUdp(settings: FerrySettings, name: string, backendPort: number, groups: number, threads = 1): Promise<Contender> {
  const port = await freeUdpPort();
  const file = writeTempFile('ferry-udp.json', udpConfig(port, backendPort, groups, threads, settings.logLevel));
  const [command, args] = onProxyCpu(process.execPath, [settings.cli, 'start', '-c', file]);
  const master = startProc(name, command, args);
  const brood = new Brood(master.pid);
  await waitForChild(master, START_TIMEOUT_MS);
  brood.adopt();
  await waitForUdp(port, master, START_TIMEOUT_MS);
  brood.adopt();
  return {
    name,
    port,
    dataPid: master.pid,
    stop: async () => {
      brood.adopt();
      await stopProc(master, 5000);
      brood.killSurvivors();
    },
  };
}

/** `ferry`, or `ferry-base`: another build of ferry (--ferry-base), to compare two builds side by side. */
export function ferryKind(settings: FerrySettings, kind = 'ferry'): ContenderKind {
  return {
    kind,
    unavailable: () => (fs.existsSync(settings.cli) ? null : `${settings.cli || '--ferry-base'} not found (${kind === 'ferry' ? 'run npm run build' : 'give --ferry-base the dist/bin/ferry.js of a built checkout'})`),
    start: (name, backendPort) => start(settings, name, backendPort),
    startReloadable: (name, backendPort) => startReloadable(settings, name, backendPort),
  };
}
