// ferry itself, one group and one thread, started through its CLI exactly as
// a user would. The master forks the worker that carries the tunnels; the
// worker inherits the master's CPU pinning.
//
// Readiness: the master logs "ready" only at info level, so with the quiet
// "warn" level used for measuring (no per-connection access log) we instead
// wait until the worker process exists and the port accepts. Connections that
// arrive before the worker takes them queue in the backlog, and every trial
// warms up before its clock starts. With --ferry-log info the "ready" line is
// awaited instead.

import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { onProxyCpu } from '../lib/affinity';
import { isAlive, trackPid, untrackPid } from '../lib/children';
import { freePort } from '../lib/free-port';
import { exitError, startProc, stopProc, type Proc } from '../lib/proc';
import { writeTempFile } from '../lib/temp';
import { childPidsSync } from '../lib/tree';
import { waitForLine } from '../lib/wait-line';
import { waitForPort } from '../lib/wait-port';
import type { Contender, ContenderKind } from './contender';

const START_TIMEOUT_MS = 20_000;

export interface FerrySettings {
  cli: string;
  logLevel: string;
}

function config(port: number, backendPort: number, logLevel: string): string {
  return JSON.stringify({
    global: { groups: 1, threads: 1, log: { level: logLevel } },
    frontends: { bench: { bind: [`127.0.0.1:${port}`], backend: 'b', timeout: { client: '5m' } } },
    backends: { b: { servers: { s1: { address: `127.0.0.1:${backendPort}` } }, timeout: { server: '5m' } } },
  }, null, 2);
}

function isReadyLine(line: string): boolean {
  if (!line.includes('"ready"')) return false;
  try {
    return (JSON.parse(line) as { msg?: unknown }).msg === 'ready';
  } catch {
    return false;
  }
}

async function findWorker(master: Proc): Promise<number> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (master.hasExited()) throw exitError(master, 'starting its worker', await master.exited);
    const pids = childPidsSync(master.pid);
    if (pids.length > 0) return pids[0]!;
    await sleep(25);
  }
  throw new Error(`${master.name}: master ${master.pid} started no worker within ${START_TIMEOUT_MS} ms\n${master.tail()}`);
}

async function stopFerry(master: Proc, worker: number): Promise<void> {
  await stopProc(master, 5000);
  // A worker that outlived its master would hold the port and skew later trials.
  if (isAlive(worker)) process.kill(worker, 'SIGKILL');
  untrackPid(worker);
}

async function start(settings: FerrySettings, name: string, backendPort: number): Promise<Contender> {
  const port = await freePort();
  const file = writeTempFile('ferry.json', config(port, backendPort, settings.logLevel));
  const [command, args] = onProxyCpu(process.execPath, [settings.cli, 'start', '-c', file]);
  const master = startProc(name, command, args);
  const logsReady = settings.logLevel === 'info' || settings.logLevel === 'debug' || settings.logLevel === 'trace';
  if (logsReady) await waitForLine(master, isReadyLine, START_TIMEOUT_MS, '"msg":"ready" log line');
  const worker = await findWorker(master);
  trackPid(worker);
  await waitForPort(port, master);
  return { name, port, dataPid: worker, stop: () => stopFerry(master, worker) };
}

export function ferryKind(settings: FerrySettings): ContenderKind {
  return {
    kind: 'ferry',
    unavailable: () => (fs.existsSync(settings.cli) ? null : `${settings.cli} not found (run npm run build once ferry is written)`),
    start: (name, backendPort) => start(settings, name, backendPort),
  };
}
