// Two binds that the kernel would refuse to hold at once: the same address twice, or a wildcard
// that already covers the other address on the same port. Catching this here turns a late
// EADDRINUSE into a message that names both places.

import type { ParsedBind } from './bind';
import { parseBindList } from './bind';
import { bindKey } from './address';
import { formatPath, isRecord, problem, type PathSegment, type Problem } from './problems';
import type { BindAddress } from './types';

interface Claim {
  at: PathSegment[];
  bind: ParsedBind;
}

export function findBindConflicts(frontends: Record<string, unknown>): Problem[] {
  const claims: Claim[] = [];
  const problems: Problem[] = [];
  for (const [name, frontend] of Object.entries(frontends)) {
    if (!isRecord(frontend)) continue;
    for (const bind of parseBindList(frontend.bind).binds) {
      const claim = { at: ['frontends', name, 'bind', ...bind.at], bind };
      const earlier = claims.find((c) => clash(c.bind.address, bind.address));
      if (earlier) problems.push(problem(claim.at, describeClash(claim, earlier)));
      else claims.push(claim);
    }
  }
  return problems;
}

function describeClash(claim: Claim, earlier: Claim): string {
  const text = JSON.stringify(claim.bind.text);
  const where = formatPath(earlier.at);
  if (bindKey(claim.bind.address) === bindKey(earlier.bind.address)) return `${text} is already bound by ${where}`;
  return `${text} overlaps ${JSON.stringify(earlier.bind.text)}, bound by ${where}`;
}

function clash(a: BindAddress, b: BindAddress): boolean {
  if (a.kind !== 'tcp' || b.kind !== 'tcp') return bindKey(a) === bindKey(b);
  // Port 0 asks the kernel for a fresh port each time, so such binds never collide.
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host && a.family === b.family ? true : covers(a, b) || covers(b, a);
}

/** Whether the wildcard `w` already receives connections for address `x` (on Linux semantics). */
function covers(w: Extract<BindAddress, { kind: 'tcp' }>, x: Extract<BindAddress, { kind: 'tcp' }>): boolean {
  if (w.family === 4) return w.host === '0.0.0.0' && x.family === 4;
  if (w.host !== '::') return false;
  return x.family === 6 || !w.v6only;
}
