/**
 * The one buffer that this thread's plain HTTP/1 sockets and TCP tunnels read into (issue 14). For
 * each read of a socket it drives, node allocates 64 KB, shrinks it to the bytes read and wraps it
 * in a Buffer: about 4% of an HTTP request's CPU went to that (malloc, free and their consolidation
 * above all). Reads into one buffer cost none of it; a copy of the bytes that are kept, from node's
 * pool of small buffers, costs less.
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

/** `chunk`, or a copy of it when it lies in the slab: what may be kept past the call. */
export function owned(chunk: Buffer): Buffer {
  return chunk.buffer === SLAB.buffer ? Buffer.from(chunk) : chunk;
}
