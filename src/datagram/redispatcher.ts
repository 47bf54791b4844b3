import type { MessagePort } from 'node:worker_threads';
import { FlowOwners, type ThreadId } from './owner';
import { encodeRedispatched, type Redispatched } from './redispatch-packet';

/** Hands a packet to the coordinator, for a thread of another group. */
export type ToGroup = (group: number, frontend: number, packet: Uint8Array) => void;

/**
 * How one thread reaches the owner of a flow it does not own: a sibling thread of its group over the
 * MessagePort their coordinator made for the pair; a thread of another group through the
 * coordinator, the only thread of a worker process that may hold a Unix datagram socket
 * (node-unix-socket aborts the process once a second thread of it loads the module). This file
 * and everything a thread imports must therefore never import node-unix-socket.
 */
export class Redispatcher {
  private readonly owners: FlowOwners;

  constructor(
    private readonly self: ThreadId,
    groups: number,
    threads: number,
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

  /** Sends a datagram to its owner; false when there is no way to that thread. */
  send(owner: ThreadId, d: Omit<Redispatched, 'thread'>): boolean {
    const packet = encodeRedispatched({ ...d, thread: owner.thread });
    if (owner.group !== this.self.group) {
      this.toGroup(owner.group, d.frontend, packet);
      return true;
    }
    const port = this.ports[owner.thread];
    if (port === null || port === undefined) return false;
    // The packet has an ArrayBuffer of its own: moved, not copied.
    port.postMessage(packet, [packet.buffer as ArrayBuffer]);
    return true;
  }
}
