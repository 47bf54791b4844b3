// The plain Node pipe proxy, started as its own process like the others.

import { freePort } from '../lib/free-port';
import { benchScript } from '../lib/paths';
import { startNodeProxy, stopProc } from '../lib/proc';
import { waitForPort } from '../lib/wait-port';
import type { Contender, ContenderKind } from './contender';

async function start(name: string, backendPort: number): Promise<Contender> {
  const port = await freePort();
  const proc = startNodeProxy(name, benchScript('pipe-proxy'), [port, backendPort]);
  await waitForPort(port, proc);
  return { name, port, dataPid: proc.pid, stop: () => stopProc(proc) };
}

export const pipeKind: ContenderKind = {
  kind: 'pipe',
  unavailable: () => null,
  start,
};
