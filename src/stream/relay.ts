import type { Socket } from 'node:net';
import { readInto } from '../conn/handle-reader';
import { borrowedChunk } from '../conn/read-slab';
import { bytesRead, keptForLater, writeError, writeReq, type NetSocket, type StreamHandle } from '../conn/stream-handle';

/**
 * How much libuv offers to read into, each time it reads a stream for node: a read that fills it
 * is a sign of bulk, and a pump that sees one reads into a buffer of its own from then on.
 */
const LIBUV_READ = 64 * 1024;

/**
 * One direction of a TCP tunnel, from one socket's handle straight into the other's (issue 14): each
 * chunk libuv reads (into the thread's slab, ../conn/read-slab.ts) is written at once, as a copy,
 * with the handle's writeBuffer, with none of node's Readable and Writable machinery (push, 'data',
 * pipe, the write queue) in between. While the kernel cannot take a chunk whole, reading stops
 * until it has (back-pressure: at most one chunk in flight). What is not data (the FIN, a read
 * error) goes to node's own handler, so 'end', 'error' and half-close stay net.Socket's; so do the
 * timeouts (refreshed on each chunk), the byte counters and 'close'.
 */
export class Pump {
  private fromHandle: StreamHandle | undefined;
  private nodeOnread: StreamHandle['onread'] | undefined;
  /** A write the kernel has not taken whole yet. */
  private inFlight: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  /**
   * Where `from` reads into once it has carried bulk: a buffer of its own is written from without a
   * copy, and a buffer reused cut a bulk tunnel's CPU by a fifth against node's buffer per read. An
   * idle or chatty tunnel never takes one, so it costs no memory; one that has taken one keeps it
   * until it closes (libuv offers no way back).
   */
  private own: Buffer | undefined;
  private readonly ended = (): void => void this.to.end();

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
  ) {}

  /** Starts relaying; what `from` read before (and its FIN) goes first. */
  start(): void {
    const from = this.from as NetSocket;
    const handle = from._handle!;
    this.fromHandle = handle;
    this.nodeOnread = readInto(handle);
    const pump = this;
    handle.onread = function onread(this: StreamHandle): void {
      pump.read(this);
    };
    if (from.readableEnded) this.to.end();
    else from.once('end', this.ended);
    const early: Buffer[] = [];
    for (let chunk: Buffer | null; (chunk = from.read() as Buffer | null) !== null; ) early.push(chunk);
    if (early.length > 0) this.write(Buffer.concat(early));
    // net.Socket starts reading again whenever it thinks its handle idle: the flag says it is not.
    handle.reading = true;
    if (this.inFlight === undefined) handle.readStart();
  }

  /**
   * Stops relaying (a hand-over): `from` reads no more and is node's again, paused (its handler on
   * its handle, its FIN no longer passed on), and the promise resolves once the chunk in flight, if
   * any, is in the kernel.
   */
  stop(): Promise<void> {
    this.stopped = true;
    const handle = this.fromHandle;
    if (handle !== undefined) {
      handle.readStop();
      handle.reading = false;
      handle.onread = this.nodeOnread!;
      this.from.off('end', this.ended);
    }
    return this.inFlight ?? Promise.resolve();
  }

  private read(handle: StreamHandle): void {
    const nread = bytesRead();
    if (nread <= 0) return this.nodeOnread!.call(handle, undefined);
    (this.from as NetSocket)._unrefTimer();
    // The buffer of its own is free to read into again: while a write from it is in flight, this
    // pump's handle does not read.
    if (this.own !== undefined) return this.write(this.own.subarray(0, nread));
    // libuv may keep the chunk for later, and the slab is the thread's: the write gets a copy.
    this.write(Buffer.from(borrowedChunk(nread)));
    if (nread === LIBUV_READ) {
      this.own = Buffer.allocUnsafeSlow(LIBUV_READ);
      readInto(handle, this.own);
    }
  }

  private write(chunk: Buffer): void {
    const to = this.to as NetSocket;
    const handle = to._handle;
    if (handle === null || to.destroyed) return;
    const req = writeReq(handle, chunk.length);
    const err = handle.writeBuffer(req, chunk);
    if (err !== 0) return void to.destroy(writeError(err));
    to._unrefTimer();
    if (!keptForLater(req)) return;
    // The kernel holds part of it: the chunk stays alive, and `from` waits, until libuv has written it all.
    req.buffer = chunk;
    this.fromHandle?.readStop();
    this.inFlight = new Promise((resolve) => (this.wake = resolve));
    const pump = this;
    req.oncomplete = function oncomplete(status: number): void {
      pump.written(status);
    };
  }

  private written(status: number): void {
    this.inFlight = undefined;
    this.wake!();
    if (status < 0) return void this.to.destroy(writeError(status));
    (this.to as NetSocket)._unrefTimer();
    if (!this.stopped && !this.from.destroyed) this.fromHandle!.readStart();
  }
}
