// The plain Node pipe proxy, started as its own process like the others.

import { freePort } from '../lib/free-port';
import { benchScript } from '../lib/paths';
import { startNodeProxy, stopProc } from '../lib/proc';
import { waitForPort } from '../lib/wait-port';
import type { Contender, ContenderKind } from './contender';

function pipe(kind: string, extra: string[]): ContenderKind {
  return {
    kind,
    unavailable: () => null,
    async start(name: string, backendPort: number): Promise<Contender> {
      const port = await freePort();
      const proc = startNodeProxy(name, benchScript('pipe-proxy'), [port, backendPort, ...extra]);
      await waitForPort(port, proc);
      return { name, port, dataPid: proc.pid, stop: () => stopProc(proc) };
    },
  };
}

/** The baseline: same TCP options as ferry (TCP_NODELAY), so the ratio is the cost of ferry's layers. */
export const pipeKind = pipe('pipe', []);
/** Node's defaults (Nagle on): cheaper per small message in the kernel, but stalls split responses. */
export const pipeNagleKind = pipe('pipe-nagle', ['nagle']);
