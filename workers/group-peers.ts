// Only the coordinator (a worker process's main thread) may import this file: node-unix-socket keeps
// one process-wide table of libuv handles with one cleanup hook, and once a second thread of the
// process has loaded the module, any thread's exit aborts the whole process
// (uv_close: Assertion `!uv__is_closing(handle)'). Verified with node 20 and node-unix-socket 0.2.7:
// a worker thread that only requires it, then exits, aborts its process.
import { rmSync } from 'node:fs';
import { DgramSocket } from 'node-unix-socket';
import { peerPath } from '../src/datagram/peer-path';
import { checkBatch } from '../src/datagram/redispatch-packet';
import type { Logger } from '../src/log';

/**
 * A group coordinator's Unix datagram sockets to the other groups of its generation: it sends the
 * datagrams its threads redispatch to threads of other groups, and hands those it receives to the
 * owner thread. The batches cross as they are, one socket datagram each (datagram/redispatch-packet.ts).
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

  constructor(
    private readonly dir: string,
    private readonly generation: number,
    group: number,
    log: Logger,
    deliver: (thread: number, packet: Uint8Array) => void,
  ) {
    const path = peerPath(dir, generation, group);
    this.path = path;
    // A file left by this group's previous worker (killed, restarting): nobody receives there any more.
    rmSync(path, { force: true });
    this.receiver.on('error', (err: Error) => log.error({ err: err.message }, 'redispatch socket failed: datagrams from other groups are lost'));
    this.sender.on('error', (err: Error) => log.error({ err: err.message }, 'redispatch socket failed: datagrams to other groups are lost'));
    this.receiver.on('data', (packet: Buffer) => {
      const batch = checkBatch(packet);
      if (typeof batch !== 'string') return deliver(batch.thread, packet);
      this.rejected++;
      log.warn({ reason: batch, rejected: this.rejected }, 'redispatched datagrams refused: malformed');
    });
    this.receiver.bind(path);
  }

  /** Sends a packet to a group's coordinator; `failed` when it cannot (that group is gone or restarting). */
  send(group: number, packet: Uint8Array, failed: () => void): void {
    const data = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    try {
      this.sender.sendTo(data, 0, data.length, peerPath(this.dir, this.generation, group), (err) => err && failed());
    } catch {
      failed();
    }
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
