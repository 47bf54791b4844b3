// A frontend's mode and its binds must agree: a UDP frontend reads datagrams, a TCP one accepts
// connections, and no socket does both.

import { parseBindList } from './bind';
import { isRecord, problem, type Problem } from './problems';

export function checkModeBinds(name: string, frontend: unknown): Problem[] {
  if (!isRecord(frontend)) return [];
  const udp = frontend.mode === 'udp';
  if (frontend.mode !== undefined && frontend.mode !== 'tcp' && frontend.mode !== 'http' && !udp) return [];
  return parseBindList(frontend.bind)
    .binds.filter((b) => (b.address.kind === 'udp') !== udp)
    .map((b) =>
      problem(
        ['frontends', name, 'bind', ...b.at],
        udp
          ? `${JSON.stringify(b.text)} is not a UDP address, and the frontend has "mode": "udp"; write "udp@host:port"`
          : `${JSON.stringify(b.text)} is a UDP address; a frontend with UDP binds needs "mode": "udp" (and only UDP binds)`,
      ),
    );
}
