import { fnv1a, mix } from '../hash';

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

/**
 * Which thread reads a UDP receiver. Until datagrams can be redispatched to the thread that owns
 * their flow, one thread of the generation reads each UDP socket, so that every datagram of a flow
 * meets the same flow table: thread 0 of group 0. The master sends UDP sockets to it alone.
 */
export function ownsDatagrams(id: ThreadId): boolean {
  return id.group === 0 && id.thread === 0;
}

/**
 * The thread of a new generation that adopts a flow handed over on reload: the one that will read
 * its datagrams. Today that is the single reader; once every thread reads and owns the flows that
 * `owners` gives it, this becomes `owners.threads[owners.ownerOf(key)]`.
 */
export function adoptingThread(owners: FlowOwners, _key: string): ThreadId {
  return owners.threads.find(ownsDatagrams)!;
}
