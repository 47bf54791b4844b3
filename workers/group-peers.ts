// Only the coordinator (a worker process's main thread) may import this file: node-unix-socket keeps
// one process-wide table of libuv handles with one cleanup hook, and once a second thread of the
// process has loaded the module, any thread's exit aborts the whole process
// (uv_close: Assertion `!uv__is_closing(handle)'). Verified with node 20 and node-unix-socket 0.2.7:
// a worker thread that only requires it, then exits, aborts its process.
import { rmSync } from 'node:fs';
import { DgramSocket } from 'node-unix-socket';
import { peerPath } from '../src/datagram/peer-path';
import { splitBatches } from '../src/datagram/redispatch-packet';
import type { Logger } from '../src/log/log';

/**
 * What one socket datagram carries at most: the batches sent to a group in one event-loop turn go
 * together up to this size (node-unix-socket reads at most 65,535 bytes of a datagram, truncating the rest). A larger batch (one
 * large datagram) goes alone.
 */
const SOCKET_DATAGRAM_BYTES = 48 * 1024;

/** Batches for one group, not sent yet, and what to do when they cannot go. */
interface Outgoing {
  packets: Uint8Array[];
  bytes: number;
  failed: (() => void)[];
}

/**
 * A group coordinator's Unix datagram sockets to the other groups of its generation: it sends the
 * datagrams its threads redispatch to threads of other groups, and hands those it receives to the
 * owner thread. The batches (datagram/redispatch-packet.ts) its threads hand it in one event-loop
 * turn for one group leave together, one after the other in one socket datagram: with
 * node-unix-socket 0.2.7 a send costs about 80 µs of CPU and a receive about 30 µs (measured with
 * 300-byte datagrams), far more than the bytes.
 */
export class GroupPeers {
  /**
   * Two sockets, one bound that only receives and one unbound that only sends: with node-unix-socket
   * 0.2.7 a bound socket that also sends, while its peers send to it, loses most datagrams both ways
   * (measured: two processes each sending 2000 to the other received 0 and 914).
   */
  private readonly receiver = new DgramSocket();
  private readonly sender = new DgramSocket();
  /** Malformed batches received (never expected: only this service's workers can write here). */
  rejected = 0;
  private closed = false;
  private readonly path: string;
  private readonly outgoing = new Map<number, Outgoing>();
  private scheduled = false;
  /**
   * Groups whose last send failed: said once when a group stops answering and once when it answers
   * again, never once a datagram (a dead group's worker takes a while to come back).
   */
  private readonly unreachable = new Set<number>();

  constructor(
    private readonly dir: string,
    private readonly generation: number,
    group: number,
    private readonly log: Logger,
    deliver: (thread: number, packet: Uint8Array) => void,
    /**
     * When the batches handed in meanwhile leave: after the event-loop turn (setImmediate) when
     * they come from worker threads, one message each; right after the current task (a microtask)
     * when the only thread runs here and hands them in one burst, which waiting a turn would only
     * delay.
     */
    private readonly defer: (flush: () => void) => void = setImmediate,
  ) {
    const path = peerPath(dir, generation, group);
    this.path = path;
    // A file left by this group's previous worker (killed, restarting): nobody receives there any more.
    rmSync(path, { force: true });
    this.receiver.on('error', (err: Error) => log.error({ err: err.message }, 'redispatch socket failed: datagrams from other groups are lost'));
    this.sender.on('error', (err: Error) => log.error({ err: err.message }, 'redispatch socket failed: datagrams to other groups are lost'));
    this.receiver.on('data', (packet: Buffer) => {
      const batches = splitBatches(packet);
      if (typeof batches !== 'string') return batches.forEach(({ thread, batch }) => deliver(thread, batch));
      this.rejected++;
      log.warn({ reason: batches, rejected: this.rejected }, 'redispatched datagrams refused: malformed');
    });
    this.receiver.bind(path);
  }

  /**
   * Sends a batch to a group's coordinator once this turn's batches are in; `failed` when it cannot
   * (closed here, or that group is gone or restarting).
   */
  send(group: number, packet: Uint8Array, failed: () => void): void {
    if (this.closed) return failed();
    let out = this.outgoing.get(group);
    if (out === undefined) {
      out = { packets: [], bytes: 0, failed: [] };
      this.outgoing.set(group, out);
    }
    if (out.packets.length > 0 && out.bytes + packet.byteLength > SOCKET_DATAGRAM_BYTES) this.flush(group, out);
    out.packets.push(packet);
    out.bytes += packet.byteLength;
    out.failed.push(failed);
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      for (const [g, o] of this.outgoing) if (o.packets.length > 0) this.flush(g, o);
    });
  }

  private flush(group: number, out: Outgoing): void {
    const data = out.packets.length === 1 ? Buffer.from(out.packets[0].buffer, out.packets[0].byteOffset, out.packets[0].byteLength) : Buffer.concat(out.packets, out.bytes);
    const failed = out.failed;
    out.packets = [];
    out.bytes = 0;
    out.failed = [];
    const fail = (): void => failed.forEach((f) => f());
    if (this.closed) return fail();
    const sent = (err: Error | undefined): void => {
      this.reached(group, err);
      if (err) fail();
    };
    try {
      this.sender.sendTo(data, 0, data.length, peerPath(this.dir, this.generation, group), sent);
    } catch (err) {
      sent(err as Error);
    }
  }

  /** Logs when a group's socket starts refusing batches (its worker is gone or restarting) and when it takes them again. */
  private reached(group: number, err: Error | undefined): void {
    if (!err) {
      if (this.unreachable.delete(group)) this.log.info({ to: group }, 'redispatch to another group works again');
      return;
    }
    if (this.unreachable.has(group)) return;
    this.unreachable.add(group);
    this.log.warn({ to: group, err: err.message }, 'redispatch to another group failed: datagrams for its threads count as dropped until it takes them again');
  }

  /** Before the process exits, on every path: closed deliberately, never left to the exit's cleanup. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiver.close();
    this.sender.close();
    rmSync(this.path, { force: true });
  }
}
