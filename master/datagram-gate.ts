import type { Logger } from '../src/log/log';
import type { Generation } from './generation';
import type { WorkerSlot } from './worker-slot';

/** How long a new generation's UDP reading waits at most for the older generations' flows. */
const FLOW_HANDOVER_WAIT_MS = 2_000;

type Outcome = 'adopted' | 'closed' | 'lost';

/**
 * Holds a new generation's UDP reading until the older generations' flows have reached it. A
 * datagram of a flow still in transit, read by the new generation, would start a second flow for
 * the same client (another upstream port, maybe another server); read by nobody, it waits in the
 * receiver's kernel buffer. So after a reload the new generation reads its UDP receivers once every
 * worker of the older generations has sent its flows (`flowsOut`, which follows its flows' hand-over
 * messages on the same channel) and every flow relayed has been adopted, closed or lost; or after
 * FLOW_HANDOVER_WAIT_MS at most. The first generation reads at once. TCP listeners are not held.
 * The old generation hands its flows over in two steps: every thread stops reading (`quiet`), then,
 * once all have, every thread sends its flows (`handOverFlows`).
 */
export class DatagramGate {
  private waiting: Generation | undefined;
  /**
   * Old workers that still read, by generation. A datagram an old thread read goes to the thread
   * that owns its flow, maybe in another worker: that thread keeps its flows until no thread of its
   * generation reads any more, or a datagram in flight would find its flow gone.
   */
  private readonly quieting = new Map<Generation, Set<WorkerSlot>>();
  /** Old workers that have not yet said they sent their flows. */
  private readonly owing = new Set<WorkerSlot>();
  /** Flows relayed to the new generation, by hand-over id, not yet taken. */
  private readonly inTransit = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private since = 0;
  private tally = { handedOver: 0, adopted: 0, closed: 0, lost: 0 };

  constructor(private readonly log: Logger) {}

  /**
   * `next` replaces `old`. A generation still held when a newer one comes never reads: it is being
   * retired, and the flows it adopts pass on to the newer one.
   */
  hold(next: Generation, old: Generation): void {
    this.waiting = next;
    const live = old.slots.filter((slot) => slot.pid !== undefined);
    for (const slot of live) this.owing.add(slot);
    this.quieting.set(old, new Set(live));
    this.quietYet(old);
    clearTimeout(this.timer);
    this.since = Date.now();
    this.timer = setTimeout(() => this.open(true), FLOW_HANDOVER_WAIT_MS);
  }

  /** An old worker stopped reading: once all of its generation have, their flows go. */
  quiet(old: Generation, slot: WorkerSlot): void {
    this.quieting.get(old)?.delete(slot);
    this.quietYet(old);
  }

  flowsOut(slot: WorkerSlot): void {
    this.owing.delete(slot);
    this.check();
  }

  /** A worker exited: an old one sends nothing more. */
  exited(slot: WorkerSlot): void {
    this.owing.delete(slot);
    for (const [old, slots] of this.quieting) if (slots.delete(slot)) this.quietYet(old);
    this.check();
  }

  relayed(id: string): void {
    this.inTransit.add(id);
    this.tally.handedOver++;
  }

  /** What became of a flow relayed; ids of sessions are not ours and are ignored. */
  settled(id: string, outcome: Outcome): void {
    if (!this.inTransit.delete(id)) return;
    this.tally[outcome]++;
    this.check();
  }

  private quietYet(old: Generation): void {
    if (this.quieting.get(old)?.size !== 0) return;
    this.quieting.delete(old);
    old.handOverFlows();
  }

  private check(): void {
    if (this.owing.size === 0 && this.inTransit.size === 0) this.open(false);
  }

  private open(timedOut: boolean): void {
    const g = this.waiting;
    if (g === undefined) return;
    this.waiting = undefined;
    clearTimeout(this.timer);
    // An old worker that never said it was quiet does not hold the others' flows longer either.
    for (const old of this.quieting.keys()) old.handOverFlows();
    this.quieting.clear();
    g.readDatagrams();
    const summary = { generation: g.n, ...this.tally, waitedMs: Date.now() - this.since };
    if (timedOut) this.log.warn({ ...summary, inTransit: this.inTransit.size, owing: this.owing.size }, 'UDP flows still in transit: the new generation reads its UDP sockets anyway');
    else if (this.tally.handedOver > 0) this.log.info(summary, 'UDP flows handed over');
    this.tally = { handedOver: 0, adopted: 0, closed: 0, lost: 0 };
  }
}
