// The bars ferry must clear against the plain pipe proxy (http: against
// node-http-proxy). They are ratios taken from one run so the shared
// machine's absolute speed cancels out.

import type { Comparison } from './compare';
import { ratios } from './compare';
import type { Section, SectionKey } from './section';

interface Floor {
  readonly key: SectionKey;
  readonly atLeast?: number;
  readonly atMost?: number;
  /** The contender compared with, when not the pipe baseline. */
  readonly baseline?: string;
}

const FLOORS: readonly Floor[] = [
  { key: 'rate', atLeast: 0.95 },
  { key: 'bulk', atLeast: 0.95 },
  { key: 'memoryIdle', atMost: 1.2 },
  { key: 'memoryTunnels', atMost: 1.2 },
  // The bar for HTTP mode.
  { key: 'http', atLeast: 3, baseline: 'http-proxy' },
];

export interface FloorResult {
  readonly key: SectionKey;
  readonly pair: string;
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

export function checkFloors(sections: readonly Section[], comparison: Comparison): FloorResult[] {
  const results: FloorResult[] = [];
  for (const floor of FLOORS) {
    const section = sections.find((s) => s.key === floor.key);
    if (section === undefined) continue;
    const rule = floor.atLeast !== undefined ? `>= ${floor.atLeast}` : `<= ${floor.atMost!}`;
    const baseline = floor.baseline ?? comparison.baseline;
    const pair = `${comparison.subject ?? '?'}/${baseline ?? 'pipe'}`;
    const value = ratios(section, comparison.subject)[pair];
    const caveat = section.floorCaveat ?? null;
    if (baseline === null || value === undefined || Number.isNaN(value)) {
      results.push({ key: floor.key, pair, ratio: null, rule, pass: null, caveat });
    } else {
      results.push({ key: floor.key, pair, ratio: value, rule, pass: judge(floor, value), caveat });
    }
  }
  return results;
}
