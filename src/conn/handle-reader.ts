import type { Socket } from 'node:net';
import { borrowedChunk, readSlab, slabCopy } from './read-slab';
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
  const nodeOnread = handle.onread;
  // libuv passes none in: node's handler reads the bytes from the one it gets.
  const toNode = function toNode(this: StreamHandle): void {
    const nread = bytesRead();
    nodeOnread.call(this, nread > 0 ? slabCopy(nread) : undefined);
  };
  handle.useUserBuffer(readSlab());
  handle.onread = function onread(this: StreamHandle): void {
    const nread = bytesRead();
    if (nread <= 0 || s.readableFlowing !== true || s.readableLength !== 0 || s.destroyed) return toNode.call(this);
    s._unrefTimer();
    onData(borrowedChunk(nread));
  };
  return () => {
    handle.onread = toNode;
  };
}
