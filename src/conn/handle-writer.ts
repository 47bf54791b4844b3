import type { Socket } from 'node:net';
import { owned } from './read-slab';
import { keptForLater, plain, writeError, writeReq, type NetSocket, type StreamHandle, type WriteReq } from './stream-handle';

type Chunk = string | Buffer;

/**
 * Writes to a socket straight through its libuv handle (issue 14): a write the kernel takes whole,
 * the usual case for HTTP heads and bodies, costs the syscall and none of node's Writable machinery
 * (the queue, the write request's callbacks, the tick after). Strings are latin1. What the kernel
 * does not take at once libuv finishes in order; `write` then returns false and the socket emits
 * 'drain' once libuv has written it all, as node's own writes do. While node holds writes of its
 * own (a write of its in flight, the socket connecting or ended) and on TLS sockets, the writes go
 * through node's `write`, so that nothing is reordered.
 */
export class HandleWriter {
  /** Writes held while corked, sent together in one system call by `uncork`. */
  private held: Chunk[] | undefined;
  /** Direct writes libuv has not finished. */
  private pending = 0;
  private readonly plain: boolean;

  constructor(private readonly socket: Socket) {
    this.plain = plain(socket);
  }

  /**
   * False when the kernel could not take it all: the writer waits for 'drain'. A borrowed chunk (one
   * a socket read into the thread's slab) is copied first: libuv, node or the cork may keep it.
   */
  write(data: Chunk): boolean {
    const chunk = typeof data === 'string' ? data : owned(data);
    if (this.held === undefined) return this.send(chunk);
    this.held.push(chunk);
    return true;
  }

  cork(): void {
    this.held ??= [];
  }

  /**
   * Sends what was written since `cork`, in one system call; false when the kernel could not take
   * it all (the writes while corked returned true: only this tells).
   */
  uncork(): boolean {
    const held = this.held;
    this.held = undefined;
    if (held === undefined || held.length === 0) return true;
    return this.send(held.length === 1 ? held[0] : held);
  }

  /** Ends the socket after what is held, with `last` as its last bytes. */
  end(last?: Buffer): void {
    this.uncork();
    if (last === undefined) this.socket.end();
    else this.socket.end(owned(last));
  }

  private send(data: Chunk | Chunk[]): boolean {
    const socket = this.socket as NetSocket;
    const handle = socket._handle;
    if (!this.plain || handle === null || socket.writableLength > 0 || socket.connecting || socket.writableEnded || socket.destroyed) return this.viaNode(data);
    const req = writeReq(handle, 0);
    const err = direct(handle, req, data);
    if (err !== 0) {
      socket.destroy(writeError(err));
      return false;
    }
    socket._unrefTimer();
    if (!keptForLater(req)) return true;
    // libuv writes the rest from `data` later: it stays alive until then.
    req.buffer = data;
    this.pending++;
    req.oncomplete = (status: number): void => this.written(status);
    return false;
  }

  private viaNode(data: Chunk | Chunk[]): boolean {
    if (!Array.isArray(data)) return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
    let ok = true;
    for (const chunk of data) ok = (typeof chunk === 'string' ? this.socket.write(chunk, 'latin1') : this.socket.write(chunk)) && ok;
    return ok;
  }

  private written(status: number): void {
    this.pending--;
    const socket = this.socket as NetSocket;
    if (status < 0) return void socket.destroy(writeError(status));
    socket._unrefTimer();
    if (this.pending === 0 && !socket.destroyed) socket.emit('drain');
  }
}

/** Up to this many bytes, chunks written together are copied into one buffer: cheaper than a writev of several. */
const JOIN_UP_TO = 4096;

function direct(handle: StreamHandle, req: WriteReq, data: Chunk | Chunk[]): number {
  if (typeof data === 'string') return handle.writeLatin1String(req, data);
  if (!Array.isArray(data)) return handle.writeBuffer(req, data);
  let size = 0;
  for (const chunk of data) size += chunk.length;
  if (size <= JOIN_UP_TO) return handle.writeBuffer(req, joined(data, size));
  const chunks: Chunk[] = [];
  for (const chunk of data) chunks.push(chunk, 'latin1');
  return handle.writev(req, chunks, false);
}

function joined(data: Chunk[], size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const chunk of data) at += typeof chunk === 'string' ? out.write(chunk, at, 'latin1') : chunk.copy(out, at);
  return out;
}
