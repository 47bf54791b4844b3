import type { MessagePort } from 'node:worker_threads';
import { FlowOwners, type ThreadId } from './owner';
import { BATCH_BYTES, encodeBatch, recordSize, type Redispatched } from './redispatch-packet';

/** Hands a batch of `datagrams` datagrams of one frontend to the coordinator, for a thread of another group. */
export type ToGroup = (group: number, frontend: number, datagrams: number, packet: Uint8Array) => void;

/** Datagrams on their way to one owner thread, for one frontend, not sent yet. */
interface Pending {
  owner: ThreadId;
  frontend: number;
  datagrams: Redispatched[];
  bytes: number;
}

/**
 * How one thread reaches the owner of a flow it does not own: a sibling thread of its group over the
 * MessagePort their coordinator made for the pair; a thread of another group through the
 * coordinator, the only thread of a worker process that may hold a Unix datagram socket
 * (node-unix-socket aborts the process once a second thread of it loads the module). This file
 * and everything a thread imports must therefore never import node-unix-socket.
 *
 * Datagrams travel in batches: those read in one event-loop turn for one owner and frontend leave
 * together once the turn's reads are done (setImmediate runs right after the poll phase), or as
 * soon as a batch reaches BATCH_BYTES. Each message, socket send and wake-up on the way costs far
 * more than the bytes it carries. A flow has one owner and one frontend, so its datagrams share
 * one queue and keep their order.
 */
export class Redispatcher {
  private readonly owners: FlowOwners;
  private readonly pending = new Map<number, Pending>();
  private scheduled = false;

  constructor(
    private readonly self: ThreadId,
    groups: number,
    private readonly threads: number,
    /** Indexed by sibling thread; none for this thread itself, nor with one thread a group. */
    private readonly ports: readonly (MessagePort | null)[],
    private readonly toGroup: ToGroup,
  ) {
    this.owners = new FlowOwners(groups, threads);
  }

  /** The thread that owns a flow key, or undefined when it is this one. */
  ownerOf(key: string): ThreadId | undefined {
    const owner = this.owners.threads[this.owners.ownerOf(key)];
    return owner.group === this.self.group && owner.thread === this.self.thread ? undefined : owner;
  }

  /** Queues a datagram for its owner; false when there is no way to that thread. */
  send(owner: ThreadId, frontend: number, d: Redispatched): boolean {
    if (owner.group === this.self.group && (this.ports[owner.thread] ?? null) === null) return false;
    const id = (owner.group * this.threads + owner.thread) * 0x10000 + frontend;
    let batch = this.pending.get(id);
    if (batch === undefined) {
      batch = { owner, frontend, datagrams: [], bytes: 0 };
      this.pending.set(id, batch);
    }
    const size = recordSize(d);
    if (batch.datagrams.length > 0 && batch.bytes + size > BATCH_BYTES) this.flush(batch);
    batch.datagrams.push(d);
    batch.bytes += size;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushAll());
    }
    return true;
  }

  private flushAll(): void {
    this.scheduled = false;
    for (const batch of this.pending.values()) if (batch.datagrams.length > 0) this.flush(batch);
  }

  private flush(batch: Pending): void {
    const { owner, frontend, datagrams } = batch;
    batch.datagrams = [];
    batch.bytes = 0;
    const packet = encodeBatch({ thread: owner.thread, frontend, datagrams });
    if (owner.group !== this.self.group) return this.toGroup(owner.group, frontend, datagrams.length, packet);
    // The packet has an ArrayBuffer of its own: moved, not copied.
    this.ports[owner.thread]!.postMessage(packet, [packet.buffer as ArrayBuffer]);
  }
}
