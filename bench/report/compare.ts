// Who is compared with whom. The subject is the first contender (ferry by
// default); the baseline is the first pipe proxy after it. With
// `--contenders pipe,pipe` the same rules give the noise floor.

import { median, ratio } from '../lib/stats';
import type { Section } from './section';

export interface Comparison {
  readonly subject: string | null;
  readonly baseline: string | null;
}

export function chooseComparison(names: readonly string[]): Comparison {
  const subject = names[0] ?? null;
  const baseline = names.find((name) => name !== subject && name.startsWith('pipe')) ?? null;
  return { subject, baseline };
}

export function mediansOf(samples: ReadonlyMap<string, readonly number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, values] of samples) out[name] = median(values);
  return out;
}

/** subject/other for every other contender, e.g. "ferry/pipe": 0.97. */
export function ratiosOf(samples: ReadonlyMap<string, readonly number[]>, subject: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  const m = mediansOf(samples);
  if (subject === null || m[subject] === undefined) return out;
  for (const name of Object.keys(m)) {
    if (name !== subject) out[`${subject}/${name}`] = ratio(m[subject]!, m[name]!);
  }
  return out;
}

export function medians(section: Section): Record<string, number> {
  return mediansOf(section.samples);
}

/** None for a section whose contenders are not compared (see Section.compare). */
export function ratios(section: Section, subject: string | null): Record<string, number> {
  return section.compare ? ratiosOf(section.samples, subject) : {};
}
