import { Socket } from 'node:net';

/** libuv's stream handle under a net.Socket (TCP or Pipe), as node's own net.js drives it. */
export interface StreamHandle {
  onread: (this: StreamHandle, arrayBuffer: ArrayBuffer | undefined) => void;
  reading: boolean;
  /** Bytes libuv holds that the kernel has not taken yet. */
  readonly writeQueueSize: number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: WriteReq, data: Buffer): number;
  writeLatin1String(req: WriteReq, data: string): number;
  /** `chunks`: buffers when `allBuffers`, else chunk and encoding in turn. */
  writev(req: WriteReq, chunks: (Buffer | string)[], allBuffers: boolean): number;
  /** From now on libuv reads into `buffer`, and onread gets no ArrayBuffer. */
  useUserBuffer(buffer: Buffer): void;
}

export interface WriteReq {
  handle: StreamHandle;
  oncomplete: (this: WriteReq, status: number) => void;
  async: boolean;
  bytes: number;
  /** What libuv still writes from: kept alive until the write completes. */
  buffer: unknown;
}

interface StreamWrap {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** Node's binding for stream handles, the one net.js writes through (process.binding is its public door). */
const wrap = (process as unknown as { binding(name: 'stream_wrap'): StreamWrap }).binding('stream_wrap');
const state = wrap.streamBaseState;

/** What ferry reaches of net.Socket below its streams: its handle (which counts the bytes it reads and writes) and its timer. */
export type NetSocket = Socket & { _handle: StreamHandle | null; _unrefTimer(): void; encrypted?: boolean };

/**
 * Can `socket` be read and written below node's streams? A TLS socket cannot: its handle carries
 * ciphertext. Plain TCP and Unix stream sockets can.
 */
export function plain(socket: Socket): boolean {
  const s = socket as NetSocket;
  return s.encrypted !== true && s._handle !== null && typeof s._handle.writeBuffer === 'function' && !s.destroyed;
}

/**
 * The request a write succeeds on unless libuv keeps it: while every write goes whole into the
 * kernel, the usual case, one request serves them all (issue 14: net.js makes one per write, an
 * object of node's C++ side, for a write that never needs it).
 */
let spare: WriteReq | undefined;

/** A write request for `handle`, as net.js makes one. */
export function writeReq(handle: StreamHandle, bytes: number): WriteReq {
  const req = (spare ??= new wrap.WriteWrap());
  req.handle = handle;
  req.async = false;
  req.bytes = bytes;
  req.buffer = null;
  return req;
}

/**
 * Right after a write with `req`: whether libuv kept part of it to finish later (its oncomplete then
 * runs). A request libuv keeps is its own until then, and the next write gets a new one.
 */
export function keptForLater(req: WriteReq): boolean {
  if (state[wrap.kLastWriteWasAsync] === 0) return false;
  if (req === spare) spare = undefined;
  return true;
}

/** In an onread handler: the bytes read (> 0), 0, or a negative libuv error (the end of the stream among them). */
export function bytesRead(): number {
  return state[wrap.kReadBytesOrError];
}

export function writeError(errno: number): Error {
  return Object.assign(new Error(`write failed (libuv error ${errno})`), { errno });
}

/** The timer net.Socket keeps under a symbol of its own (set by `setTimeout`), and the length node reads from it. */
type SocketTimer = NodeJS.Timeout & { _idleTimeout: number; _onTimeout: (() => void) | null };

/** net.Socket's key for its timer, found once on a socket of its own making (undefined if node names it otherwise). */
const TIMER = Object.getOwnPropertySymbols(new Socket()).find((key) => key.description === 'timeout');

/**
 * `socket.setTimeout(ms)` at a fraction of its cost: node makes a new timer (and a bound function)
 * on every call, where restarting the one it has, with the new length, does the same (issue 14: an
 * HTTP request sets its sockets' timeouts four times, and two of them change the length: the
 * request's, then the keep-alive's; the server's, then the pool's).
 */
export function restartTimeout(socket: Socket, ms: number): void {
  const timer = TIMER === undefined ? undefined : ((socket as unknown as Record<symbol, SocketTimer | null>)[TIMER] ?? undefined);
  // A timer cleared (`setTimeout(0)`) has lost its callback, and its length if it had not fired: node makes a new one.
  if (ms <= 0 || timer === undefined || timer._onTimeout === null || timer._idleTimeout <= 0 || socket.destroyed) return void socket.setTimeout(ms);
  if (timer._idleTimeout !== ms) {
    timer._idleTimeout = ms;
    (socket as { timeout?: number }).timeout = ms;
  }
  timer.refresh();
}
