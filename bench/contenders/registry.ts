// Turns the --contenders list into runnable kinds. Repeating a name (pipe,pipe)
// is allowed on purpose: two identical contenders measure the noise floor.

import type { ContenderKind } from './contender';
import { ferryKind, workersOf, type FerrySettings } from './ferry';
import { haproxyKind } from './haproxy';
import { pipeKind, pipeNagleKind } from './pipe';

export interface Entry {
  readonly name: string;
  readonly kind: ContenderKind;
}

export interface Lineup {
  readonly entries: Entry[];
  readonly notes: string[];
}

export function lineup(requested: readonly string[], ferry: FerrySettings): Lineup {
  const KINDS: readonly ContenderKind[] = [ferryKind(ferry), ferryKind({ ...ferry, cli: ferry.base ?? '' }, 'ferry-base'), pipeKind, pipeNagleKind, haproxyKind(workersOf(ferry))];
  const entries: Entry[] = [];
  const notes: string[] = [];
  const seen = new Map<string, number>();
  for (const want of requested) {
    const kind = KINDS.find((k) => k.kind === want);
    if (kind === undefined) throw new Error(`unknown contender ${want} (known: ${KINDS.map((k) => k.kind).join(', ')})`);
    const why = kind.unavailable();
    if (why !== null) {
      notes.push(`skipping ${want}: ${why}`);
      continue;
    }
    const n = (seen.get(want) ?? 0) + 1;
    seen.set(want, n);
    entries.push({ name: n === 1 ? want : `${want}#${n}`, kind });
  }
  return { entries, notes };
}
