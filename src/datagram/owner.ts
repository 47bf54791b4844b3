import { fnv1a, mix } from '../lib/hash';

/** A thread of a generation, as numbered everywhere else: its group, and its index in the group. */
export interface ThreadId {
  group: number;
  thread: number;
}

/**
 * Which thread of a generation owns a flow: rendezvous hashing of the flow key over every thread of
 * every group. Each thread draws a score from a hash of (key, thread) and the highest wins, so every
 * thread and process computes the same owner without asking anyone, and a generation with one more
 * or one fewer thread moves only the flows that thread wins or had.
 */
export class FlowOwners {
  readonly threads: readonly ThreadId[];
  private readonly seeds: readonly number[];

  constructor(groups: number, threadsPerGroup: number) {
    const threads: ThreadId[] = [];
    for (let group = 0; group < groups; group++) for (let thread = 0; thread < threadsPerGroup; thread++) threads.push({ group, thread });
    this.threads = threads;
    this.seeds = threads.map((t) => mix(fnv1a(`${t.group}/${t.thread}`)));
  }

  /** The owner's index in `threads`. */
  ownerOf(key: string): number {
    const h = mix(fnv1a(key));
    let best = 0;
    let bestScore = -1;
    for (let i = 0; i < this.seeds.length; i++) {
      const score = mix(h ^ this.seeds[i]);
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }
}
