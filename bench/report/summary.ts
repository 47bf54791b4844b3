// The machine-readable part: one JSON line, last on stdout, holding every
// median, every ratio, the raw rounds and the floor verdicts.

import os from 'node:os';
import type { Comparison } from './compare';
import { medians, mediansOf, ratios, ratiosOf } from './compare';
import type { FloorResult } from './floors';
import { median } from '../lib/stats';
import type { Section } from './section';

export interface RunInfo {
  readonly rounds: number;
  readonly memoryRounds: number;
  readonly reloadRounds: number;
  readonly stormRounds: number;
  readonly durationS: number;
  /** ferry's --groups and --threads; haproxy ran groups x threads threads. */
  readonly groups: number;
  readonly threads: number;
  readonly load: string;
  /** The http measurement's load generator. */
  readonly httpLoad: string;
  readonly pinning: string;
  readonly skipped: readonly string[];
}

function sectionJson(section: Section, comparison: Comparison): object {
  return {
    unit: section.unit,
    better: section.better,
    medians: medians(section),
    ratios: ratios(section, comparison.subject),
    rounds: Object.fromEntries(section.samples),
    ...(section.cost.size > 0 ? {
      proxyCpu: {
        unit: section.costUnit,
        medians: mediansOf(section.cost),
        userMedians: mediansOf(section.userCost),
        ratios: ratiosOf(section.cost, comparison.subject),
      },
    } : {}),
    ...(section.figures.size > 0 ? {
      figures: Object.fromEntries([...section.figures].map(([column, figure]) => [column, { medians: mediansOf(figure.values), rounds: Object.fromEntries(figure.values) }])),
    } : {}),
    ...(section.totals.size > 0 ? { totals: Object.fromEntries([...section.totals].map(([key, byName]) => [key, Object.fromEntries(byName)])) } : {}),
    ...(section.unavailable.size > 0 ? { unavailable: Object.fromEntries(section.unavailable) } : {}),
    notes: section.notes,
    ...(section.noise.length > 0 ? { neighbourCpu: { median: median(section.noise), max: Math.max(...section.noise), repeated: section.retried } } : {}),
  };
}

export function summaryLine(sections: readonly Section[], comparison: Comparison, floors: readonly FloorResult[], info: RunInfo): string {
  return JSON.stringify({
    bench: 'ferry',
    node: process.version,
    cpus: os.cpus().length,
    ...info,
    subject: comparison.subject,
    baseline: comparison.baseline,
    results: Object.fromEntries(sections.map((s) => [s.key, sectionJson(s, comparison)])),
    floors,
  });
}
