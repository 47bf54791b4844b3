// One measured quantity across contenders: the raw per-round values are kept
// so the report can show spread, not just the median.

import type { RoundResults } from '../lib/rounds';

export type SectionKey = 'rate' | 'bulk' | 'memoryIdle' | 'memoryTunnels' | 'memoryHttpIdle' | 'memoryHttp' | 'reload' | 'udp' | 'http'
  | 'reloadStormHttp' | 'reloadStormTcp' | 'reloadDipHttp' | 'reloadDipTcp' | 'reloadSoakMaster' | 'reloadSoakWorker'
  | 'shards' | 'udpDelivery'
  | 'scaleTcp' | 'scaleHttp';

/** Another per-round figure of each contender, shown by its median beside the section's own (reload-storm: steady and storm req/s). */
export interface Figure {
  readonly digits: number;
  readonly values: Map<string, number[]>;
}

export interface Section {
  readonly key: SectionKey;
  readonly title: string;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly samples: Map<string, number[]>;
  readonly notes: string[];
  /** Share of the CPUs neighbours took, per measured round (rate, bulk and udp). */
  readonly noise: number[];
  retried: number;
  /** Proxy CPU per unit of work, scaled for display (rate, bulk and udp). */
  readonly cost: Map<string, number[]>;
  /** The part of cost spent outside the kernel, in the same unit (NaN where not metered). */
  readonly userCost: Map<string, number[]>;
  readonly costUnit: string;
  /** Counts summed over all rounds, by column then contender (reload: failed requests, reloads; udp: lost). */
  readonly totals: Map<string, Map<string, number>>;
  /** Contenders that could not run this measurement, with the reason shown in their row (http: a ferry without HTTP mode). */
  readonly unavailable: Map<string, string>;
  /** Said next to this section's floor verdict when the subject was not measured as the floor means (http: ferry in tcp mode). */
  floorCaveat?: string;
  /** Other per-round figures, by column heading. */
  readonly figures: Map<string, Figure>;
  /** Decimals of the section's own figure; by default 0 for rates, else 1. */
  digits?: number;
  /** False when one contender's figure over another's means nothing (seconds lost, near 0 for a good proxy): no ratio column. */
  compare: boolean;
}

export function newSection(key: SectionKey, title: string, unit: string, better: 'higher' | 'lower', costUnit = ''): Section {
  return { key, title, unit, better, samples: new Map(), notes: [], noise: [], retried: 0, cost: new Map(), userCost: new Map(), costUnit, totals: new Map(), unavailable: new Map(), figures: new Map(), compare: true };
}

export function addSample(section: Section, name: string, value: number): void {
  const values = section.samples.get(name) ?? [];
  values.push(value);
  section.samples.set(name, values);
}

export function addTotal(section: Section, column: string, name: string, amount: number): void {
  const byName = section.totals.get(column) ?? new Map<string, number>();
  byName.set(name, (byName.get(name) ?? 0) + amount);
  section.totals.set(column, byName);
}

export function addFigure(section: Section, column: string, name: string, value: number, digits: number): void {
  const figure = section.figures.get(column) ?? { digits, values: new Map<string, number[]>() };
  figure.values.set(name, [...(figure.values.get(name) ?? []), value]);
  section.figures.set(column, figure);
}

/** Costs arrive in CPU seconds per unit; scale turns them into costUnit. */
export function absorbRounds(section: Section, rounds: RoundResults, costScale: number): void {
  for (const [name, values] of rounds.samples) section.samples.set(name, values);
  for (const [name, values] of rounds.cost) section.cost.set(name, values.map((v) => v * costScale));
  for (const [name, values] of rounds.userCost) section.userCost.set(name, values.map((v) => v * costScale));
  section.noise.push(...rounds.noise);
  section.retried += rounds.retried;
}
