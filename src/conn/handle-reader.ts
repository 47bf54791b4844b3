import type { Socket } from 'node:net';
import { borrowedChunk, readSlab } from './read-slab';
import { bytesRead, plain, type NetSocket, type StreamHandle } from './stream-handle';

const NOTHING = (): void => {};

/**
 * Hands what a plain socket reads straight from its libuv handle to `onData`, whenever the socket
 * flows with nothing buffered (issue 14): node's read handler, `push` and the 'data' event are left
 * out of an HTTP request's reads. The socket reads into the thread's slab, so what `onData` gets
 * that way is borrowed (./read-slab.ts): it keeps a copy of what it keeps. Everything else goes
 * through node's own handler, with a copy of the bytes: what arrives while the socket is paused or
 * holds bytes (it reaches `onData` through 'data', in order, and node stops reading when its buffer
 * is full), the end of the stream and errors. The caller listens to 'data' with the same `onData`.
 * Returns the function that gives the handle back to node, which whoever else reads the socket from
 * then on (a tunnel, a closing connection) needs; the handle goes on reading into the slab, and
 * node's handler gets copies.
 */
export function readDirectly(socket: Socket, onData: (chunk: Buffer) => void): () => void {
  if (!plain(socket)) return NOTHING;
  const s = socket as NetSocket;
  const handle = s._handle!;
  const toNode = readInto(handle);
  handle.onread = function onread(this: StreamHandle): void {
    const nread = bytesRead();
    if (nread <= 0 || s.readableFlowing !== true || s.readableLength !== 0 || s.destroyed) return toNode.call(this, undefined);
    s._unrefTimer();
    onData(borrowedChunk(nread));
  };
  return () => {
    handle.onread = toNode;
  };
}

/** Node's read handler of each handle that reads into a buffer of ferry's, fed with copies. */
const nodeHandlers = new WeakMap<StreamHandle, StreamHandle['onread']>();
/** The buffer each such handle reads into now. */
const readBuffers = new WeakMap<StreamHandle, Buffer>();

/**
 * Has `handle` read into `buffer` (the thread's slab unless told) from now on, instead of into the
 * 64 KB that node allocates per read. libuv then passes node's handler no ArrayBuffer, and that
 * handler keeps what it is given: the function returned is node's handler fed with a copy of each
 * read, for whoever passes a read on to node (paused sockets, the end of the stream, a give-back).
 */
export function readInto(handle: StreamHandle, buffer: Buffer = readSlab()): StreamHandle['onread'] {
  handle.useUserBuffer(buffer);
  readBuffers.set(handle, buffer);
  let toNode = nodeHandlers.get(handle);
  if (toNode === undefined) {
    const nodeOnread = handle.onread;
    toNode = function toNode(this: StreamHandle): void {
      const nread = bytesRead();
      nodeOnread.call(this, nread > 0 ? arrayBufferCopy(readBuffers.get(this)!, nread) : undefined);
    };
    nodeHandlers.set(handle, toNode);
  }
  return toNode;
}

function arrayBufferCopy(buffer: Buffer, length: number): ArrayBuffer {
  const copy = new ArrayBuffer(length);
  new Uint8Array(copy).set(buffer.subarray(0, length));
  return copy;
}
