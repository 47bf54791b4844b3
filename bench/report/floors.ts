// The bars ferry must clear against the plain pipe proxy (http: against
// node-http-proxy). They are ratios taken from one run so the shared
// machine's absolute speed cancels out. The reload-storm bars judge ferry
// against itself: the throughput it keeps while reloading, as a share of its
// own steady rate in the same trial, the requests it fails, and the seconds
// of throughput one reload costs.

import type { Comparison } from './compare';
import { medians, ratiosOf } from './compare';
import type { Section, SectionKey } from './section';

/**
 * What a floor judges: `ratio`, the subject's median over the baseline's; `own`, the subject's own
 * median (the section's unit is already a ratio or a cost); `total`, the subject's sum of a totals
 * column over the rounds.
 */
type Judged = { readonly of: 'ratio'; readonly baseline?: string } | { readonly of: 'own' } | { readonly of: 'total'; readonly column: string };

interface Floor {
  readonly key: SectionKey;
  readonly atLeast?: number;
  readonly atMost?: number;
  readonly judged: Judged;
}

const RATIO: Judged = { of: 'ratio' };
const OWN: Judged = { of: 'own' };
const FAILED: Judged = { of: 'total', column: 'failedRequests' };

const FLOORS: readonly Floor[] = [
  { key: 'rate', atLeast: 0.95, judged: RATIO },
  { key: 'bulk', atLeast: 0.95, judged: RATIO },
  { key: 'memoryIdle', atMost: 1.2, judged: RATIO },
  { key: 'memoryTunnels', atMost: 1.2, judged: RATIO },
  // The bar for HTTP mode.
  { key: 'http', atLeast: 3, judged: { of: 'ratio', baseline: 'http-proxy' } },
  // Issue 13: a reload every second keeps 90% of the steady rate and fails nothing;
  // one reload costs less than 0.1 s of steady throughput.
  { key: 'reloadStormHttp', atLeast: 0.9, judged: OWN },
  { key: 'reloadStormHttp', atMost: 0, judged: FAILED },
  { key: 'reloadDipHttp', atMost: 0.1, judged: OWN },
  { key: 'reloadStormTcp', atLeast: 0.9, judged: OWN },
  { key: 'reloadStormTcp', atMost: 0, judged: FAILED },
  { key: 'reloadDipTcp', atMost: 0.1, judged: OWN },
  // 1,000 reloads back to back: nothing fails, the master's fds stay, RSS within 10% of where it
  // was after the first 10 reloads.
  { key: 'reloadSoakMaster', atMost: 1.1, judged: OWN },
  { key: 'reloadSoakMaster', atMost: 0, judged: FAILED },
  { key: 'reloadSoakMaster', atMost: 0, judged: { of: 'total', column: 'fdGrowth' } },
  { key: 'reloadSoakWorker', atMost: 1.1, judged: OWN },
];

export interface FloorResult {
  readonly key: SectionKey;
  /** What is judged, e.g. "ferry/pipe", "ferry storm/steady", "ferry failed requests". */
  readonly pair: string;
  /** How the figure is taken (see Judged). */
  readonly of: Judged['of'];
  /** The judged figure. */
  readonly value: number | null;
  /** The same, for the floors that compare the subject with a baseline; null for the others. */
  readonly ratio: number | null;
  readonly rule: string;
  readonly pass: boolean | null;
  /** Why the verdict may not mean what the floor means, or null. */
  readonly caveat: string | null;
}

function judge(floor: Floor, value: number): boolean {
  if (floor.atLeast !== undefined) return value >= floor.atLeast;
  return value <= floor.atMost!;
}

/** The label and the figure a floor judges in a section; the figure is undefined when not measured. */
function judged(floor: Floor, section: Section, comparison: Comparison): { pair: string; value: number | undefined } {
  const subject = comparison.subject ?? '?';
  switch (floor.judged.of) {
    case 'ratio': {
      const baseline = floor.judged.baseline ?? comparison.baseline;
      const pair = `${subject}/${baseline ?? 'pipe'}`;
      return { pair, value: baseline === null ? undefined : ratiosOf(section.samples, comparison.subject)[pair] };
    }
    case 'own':
      return { pair: `${subject} ${section.unit}`, value: section.samples.has(subject) ? medians(section)[subject] : undefined };
    case 'total': {
      const column = floor.judged.column;
      const words = column.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
      return { pair: `${subject} ${words}`, value: section.samples.has(subject) ? section.totals.get(column)?.get(subject) ?? 0 : undefined };
    }
  }
}

export function checkFloors(sections: readonly Section[], comparison: Comparison): FloorResult[] {
  const results: FloorResult[] = [];
  for (const floor of FLOORS) {
    const section = sections.find((s) => s.key === floor.key);
    if (section === undefined) continue;
    const rule = floor.atLeast !== undefined ? `>= ${floor.atLeast}` : `<= ${floor.atMost!}`;
    const { pair, value } = judged(floor, section, comparison);
    const caveat = section.floorCaveat ?? null;
    const measured = value !== undefined && !Number.isNaN(value);
    const ratio = floor.judged.of === 'ratio' && measured ? value : null;
    results.push({ key: floor.key, pair, of: floor.judged.of, value: measured ? value : null, ratio, rule, pass: measured ? judge(floor, value) : null, caveat });
  }
  return results;
}
