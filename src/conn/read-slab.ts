/**
 * The one buffer that this thread's plain HTTP/1 sockets read into (issue 14). For each read of a
 * socket it drives, node allocates 64 KB, shrinks it to the bytes read and wraps it in a Buffer; a
 * tenth of an HTTP request's CPU went to that and to the collections it brought. Reads into one
 * buffer cost none of it.
 *
 * What a socket reads there is **borrowed**: the next read of any socket of the thread writes over
 * it. Whoever is handed a borrowed chunk must be done with it when the call returns, or keep a
 * copy (`owned`). Nothing runs between a read and its callback, so a chunk is intact while its
 * callback runs.
 */

/** As much as libuv offers node to read into at once. */
const SLAB = Buffer.allocUnsafeSlow(64 * 1024);

/** The buffer to give a handle's `useUserBuffer`. */
export function readSlab(): Buffer {
  return SLAB;
}

/** The `nread` bytes a read left in the slab: borrowed. */
export function borrowedChunk(nread: number): Buffer {
  return SLAB.subarray(0, nread);
}

/** The `nread` bytes a read left in the slab, in an ArrayBuffer of their own. */
export function slabCopy(nread: number): ArrayBuffer {
  const copy = new ArrayBuffer(nread);
  new Uint8Array(copy).set(SLAB.subarray(0, nread));
  return copy;
}

/** `chunk`, or a copy of it when it lies in the slab: what may be kept past the call. */
export function owned(chunk: Buffer): Buffer {
  return chunk.buffer === SLAB.buffer ? Buffer.from(chunk) : chunk;
}
