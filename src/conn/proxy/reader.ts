import type { Socket } from 'node:net';
import type { Connection } from '../connection';
import type { ProxyEnds } from '../../proto/proxy-ends';
import type { Termination, Who } from '../../proto/termination';
import { parseProxyHeader } from './parse';

/** Why no header came: who ended it (the stage is the handshake's, as for TLS) and how. */
export interface ProxyHeaderFailure {
  termination: Termination;
  reason: string;
}

/** No header is longer: v2's fixed part and a full 16-bit length. */
const MAX_HEADER = 16 + 0xffff;

/**
 * Reads the PROXY header an `acceptProxy` bind's connections begin with, before TLS and before any
 * mux, within a deadline from the accept (a header trickled in a byte at a time cannot stretch it).
 * It reads in paused mode ('readable'), so that once its listener is gone the socket is as the
 * accept left it; the bytes after the header go back into the socket (unshift), where the mux (or
 * the TLS layer, which takes a socket's buffered bytes first) reads them. `done` is called once:
 * without a failure when the header is read (the connection knows its client then), with one when
 * the socket is closed.
 */
export class ProxyHeaderReader {
  private readonly socket: Socket;
  private buf: Buffer | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private finished = false;
  private readonly onReadable = (): void => this.read();
  private readonly onEnd = (): void => this.fail('C', 'the client closed the connection before its PROXY header was whole');
  private readonly onError = (err: Error): void => this.fail('C', `the connection failed before its PROXY header was whole: ${err.message}`);

  constructor(
    private readonly conn: Connection,
    timeoutMs: number,
    private readonly done: (failure?: ProxyHeaderFailure) => void,
  ) {
    const socket = (this.socket = conn.ctrl);
    socket.on('readable', this.onReadable);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    if (timeoutMs > 0) this.timer = setTimeout(() => this.fail('c', `no complete PROXY header within ${timeoutMs}ms`), timeoutMs);
  }

  /** Hard stop: the connection ends here. */
  abort(): void {
    this.fail('K', 'closed by a hard stop');
  }

  private read(): void {
    for (let chunk: Buffer | null; !this.finished && (chunk = this.socket.read() as Buffer | null) !== null; ) {
      const buf = (this.buf = this.buf === undefined ? chunk : Buffer.concat([this.buf, chunk]));
      const parsed = parseProxyHeader(buf);
      if ('error' in parsed) return this.fail('C', parsed.error);
      if ('ends' in parsed) return this.succeed(parsed, buf);
      if (buf.length > MAX_HEADER) return this.fail('C', 'PROXY header longer than any header can be');
    }
  }

  private succeed(header: { ends: ProxyEnds; length: number }, buf: Buffer): void {
    this.settle();
    if (buf.length > header.length) this.socket.unshift(buf.subarray(header.length));
    this.conn.proxy(header.ends);
    this.done();
  }

  private fail(who: Who, reason: string): void {
    if (this.finished) return;
    this.settle();
    this.socket.destroy();
    this.done({ termination: `${who}T`, reason });
  }

  private settle(): void {
    this.finished = true;
    clearTimeout(this.timer);
    this.socket.off('readable', this.onReadable);
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onError);
  }
}
