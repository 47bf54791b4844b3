import type { Socket } from 'node:net';
import { bytesRead, plain, readChunk, type NetSocket, type StreamHandle } from './stream-handle';

const NOTHING = (): void => {};

/**
 * Hands what a plain socket reads straight from its libuv handle to `onData`, whenever the socket
 * flows with nothing buffered (issue 14): node's read handler, `push` and the 'data' event are left
 * out of an HTTP request's reads. Everything else goes through node's own handler: what arrives
 * while the socket is paused or holds bytes (it reaches `onData` through 'data', in order, and node
 * stops reading when its buffer is full), the end of the stream and errors. The caller listens to
 * 'data' with the same `onData`. Returns the function that gives the handle back to node, which
 * whoever else reads the socket from then on (a tunnel, a closing connection) needs.
 */
export function readDirectly(socket: Socket, onData: (chunk: Buffer) => void): () => void {
  if (!plain(socket)) return NOTHING;
  const s = socket as NetSocket;
  const handle = s._handle!;
  const nodeOnread = handle.onread;
  handle.onread = function onread(this: StreamHandle, arrayBuffer: ArrayBuffer | undefined): void {
    const nread = bytesRead();
    if (nread <= 0 || s.readableFlowing !== true || s.readableLength !== 0 || s.destroyed) return nodeOnread.call(this, arrayBuffer);
    s._unrefTimer();
    onData(readChunk(arrayBuffer!, nread));
  };
  return () => {
    handle.onread = nodeOnread;
  };
}
