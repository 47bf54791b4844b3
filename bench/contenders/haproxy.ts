// haproxy in TCP mode with one thread: the reference for what a mature
// single-threaded C proxy does on the same box.

import { onProxyCpu } from '../lib/affinity';
import { freePort } from '../lib/free-port';
import { startProc, stopProc } from '../lib/proc';
import { writeTempFile } from '../lib/temp';
import { waitForPort } from '../lib/wait-port';
import { which } from '../lib/which';
import type { Contender, ContenderKind } from './contender';

// maxconn leaves room for up to 9,000 tunnels (two fds each) under a 20,000 fd limit;
// long timeouts so idle tunnels in the memory test are never reaped.
function config(port: number, backendPort: number): string {
  return `global
  nbthread 1
  maxconn 9000

defaults
  mode tcp
  maxconn 9000
  timeout connect 5s
  timeout client 5m
  timeout server 5m

frontend bench
  bind 127.0.0.1:${port}
  default_backend b

backend b
  server s1 127.0.0.1:${backendPort}
`;
}

async function start(name: string, backendPort: number): Promise<Contender> {
  const port = await freePort();
  const file = writeTempFile('haproxy.cfg', config(port, backendPort));
  // -db keeps it in the foreground as a single process we can signal and measure.
  const [command, args] = onProxyCpu(which('haproxy') ?? 'haproxy', ['-db', '-f', file]);
  const proc = startProc(name, command, args);
  await waitForPort(port, proc);
  return { name, port, dataPid: proc.pid, stop: () => stopProc(proc) };
}

export const haproxyKind: ContenderKind = {
  kind: 'haproxy',
  unavailable: () => (which('haproxy') === null ? 'haproxy not on PATH (bench/install-tools.sh installs it)' : null),
  start,
};
