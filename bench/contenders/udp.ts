// The UDP line-up, derived from --contenders: `ferry` stands for ferry with
// 1 or 2 groups of 1 or 2 threads (how much redispatch costs), `pipe` for the plain Node dgram
// relay (bench/dgram-relay.ts), the baseline. The others have no UDP
// counterpart here and are left out with a note.

import { freeUdpPort } from '../lib/free-port';
import { benchScript } from '../lib/paths';
import { startNodeProxy, stopProc } from '../lib/proc';
import { waitForUdp } from '../lib/wait-udp';
import type { Contender } from './contender';
import { startFerryUdp, type FerrySettings } from './ferry';

export interface UdpEntry {
  readonly name: string;
  start(backendPort: number): Promise<Contender>;
}

async function startRelay(name: string, backendPort: number): Promise<Contender> {
  const port = await freeUdpPort();
  const proc = startNodeProxy(name, benchScript('dgram-relay'), [port, backendPort]);
  await waitForUdp(port, proc);
  return { name, port, dataPid: proc.pid, stop: () => stopProc(proc) };
}

function counterparts(want: string, ferry: FerrySettings): { name: string; start: (name: string, backendPort: number) => Promise<Contender> }[] {
  if (want === 'ferry') {
    return [
      { name: 'ferry', start: (name, port) => startFerryUdp(ferry, name, port, 1) },
      { name: 'ferry-1x2', start: (name, port) => startFerryUdp(ferry, name, port, 1, 2) },
      { name: 'ferry-2g', start: (name, port) => startFerryUdp(ferry, name, port, 2) },
      { name: 'ferry-2x2', start: (name, port) => startFerryUdp(ferry, name, port, 2, 2) },
    ];
  }
  if (want === 'pipe') return [{ name: 'dgram', start: startRelay }];
  return [];
}

/** `available` is the TCP line-up's verdict: a ferry build that cannot run is skipped here too. */
export function udpLineup(requested: readonly string[], available: readonly string[], ferry: FerrySettings): { entries: UdpEntry[]; notes: string[] } {
  const entries: UdpEntry[] = [];
  const notes: string[] = [];
  const seen = new Map<string, number>();
  for (const want of requested) {
    const kinds = counterparts(want, ferry);
    if (kinds.length === 0 || !available.includes(want)) {
      notes.push(`udp: no UDP measurement for ${want}`);
      continue;
    }
    for (const kind of kinds) {
      const n = (seen.get(kind.name) ?? 0) + 1;
      seen.set(kind.name, n);
      const name = n === 1 ? kind.name : `${kind.name}#${n}`;
      entries.push({ name, start: (backendPort) => kind.start(name, backendPort) });
    }
  }
  return { entries, notes };
}
