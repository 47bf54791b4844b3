// Rounds interleave the contenders (A B C A B C …) so a burst of noise on the
// shared box lands on all of them instead of on one. A trial during which
// others took more than maxNoise of the CPUs is repeated, within a budget per
// section so a busy box cannot stretch the run without bound.

import { progress } from './progress';
import type { Trial } from './trial';

export interface RoundPolicy {
  readonly rounds: number;
  readonly maxNoise: number;
  readonly retries: number;
}

export interface RoundResults {
  readonly samples: Map<string, number[]>;
  readonly cost: Map<string, number[]>;
  /** The part of cost outside the kernel. */
  readonly userCost: Map<string, number[]>;
  readonly noise: number[];
  retried: number;
}

async function quietTrial<T extends { name: string }>(
  item: T,
  policy: RoundPolicy,
  run: (item: T) => Promise<Trial>,
  results: RoundResults,
): Promise<Trial> {
  for (;;) {
    const trial = await run(item);
    if (trial.noise <= policy.maxNoise || results.retried >= policy.retries) return trial;
    results.retried += 1;
    progress(`    ${item.name}: others took ${(trial.noise * 100).toFixed(0)}% of the CPUs, repeating`);
  }
}

/**
 * The contenders in the order round `round` (from 0) runs them: each round starts one further on, so
 * that no contender always runs first, or always right after the same one. A fixed order showed a
 * bias of its own: in bulk, ferry against the build before it read 0.77 and 0.87 when it ran first in
 * every round, and 1.10 when it ran second, with nothing between the builds on that path.
 */
export function rotated<T>(items: readonly T[], round: number): T[] {
  const from = round % items.length;
  return [...items.slice(from), ...items.slice(0, from)];
}

export async function alternate<T extends { name: string }>(
  items: readonly T[],
  policy: RoundPolicy,
  run: (item: T) => Promise<Trial>,
  format: (value: number) => string,
): Promise<RoundResults> {
  const results: RoundResults = {
    samples: new Map(items.map((item) => [item.name, []])),
    cost: new Map(items.map((item) => [item.name, []])),
    userCost: new Map(items.map((item) => [item.name, []])),
    noise: [],
    retried: 0,
  };
  for (let round = 1; round <= policy.rounds; round += 1) {
    for (const item of rotated(items, round - 1)) {
      const trial = await quietTrial(item, policy, run, results);
      results.samples.get(item.name)!.push(trial.value);
      results.cost.get(item.name)!.push(trial.cost);
      results.userCost.get(item.name)!.push(trial.userCost);
      results.noise.push(trial.noise);
      progress(`  round ${round}/${policy.rounds}  ${item.name.padEnd(10)} ${format(trial.value).padStart(12)}   noise ${(trial.noise * 100).toFixed(0)}%`);
    }
  }
  return results;
}
