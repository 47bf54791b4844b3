import type { Socket } from 'node:net';
import type { Termination } from '../proto/termination';

/**
 * What a closing peer may still send, read and dropped: past it ferry closes at once. Reading on
 * (rather than closing with bytes unread, which makes the kernel reset the connection) lets the peer
 * read the answer before it learns of the close; a peer that keeps sending this much is not reading.
 */
export const DROP_LIMIT = 256 * 1024;

/**
 * Why a closing connection was cut rather than closed by its peer: `flush`, the peer took none of
 * ferry's last bytes for its inactivity timeout; `fin`, it did not close within its fin timeout once
 * ferry's FIN was out; `drop`, it sent more than DROP_LIMIT meanwhile.
 */
export type Cut = 'flush' | 'fin' | 'drop';

/** The termination code of a connection cut while closing (src/proto/termination.ts). */
export const CUT_TERMINATION: Readonly<Record<Cut, Termination>> = { flush: 'cD', fin: 'cL', drop: 'PL' };

export interface ClosingOptions {
  /**
   * How long the peer may take no byte of what ferry still has to send, before its FIN (an inactivity
   * timeout; 0: none). Absent: the socket's owner keeps its own timeout and handles it.
   */
  flushMs?: number;
  /** How long the peer may take to close once ferry's FIN is out (a deadline: trickling does not extend it; 0: none). */
  finMs: number;
  /** The peer did not close in time or sent too much: the socket is destroyed right after. */
  cut(why: Cut, dropped: number): void;
}

/**
 * The last stage of a connection ferry has ended (end() called) and wants nothing more from: what the
 * peer still sends is read and dropped, and once ferry's FIN is out (every byte ferry wrote is in the
 * kernel, which goes on delivering them whatever follows) the peer has `finMs` to close its side, or
 * the socket is destroyed. A peer that closes ends it at once (node closes a socket both of whose
 * sides have ended). One timer per closing connection, armed once; nothing per byte but a sum.
 */
export function closing(socket: Socket, o: ClosingOptions): void {
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  const cut = (why: Cut): void => {
    clearTimeout(timer);
    if (socket.destroyed) return;
    o.cut(why, dropped);
    socket.destroy();
  };
  socket.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DROP_LIMIT) cut('drop');
  });
  socket.once('close', () => clearTimeout(timer));
  const { flushMs } = o;
  if (flushMs !== undefined) {
    socket.setTimeout(flushMs);
    socket.on('timeout', () => cut('flush'));
  }
  const finSent = (): void => {
    if (flushMs !== undefined) socket.setTimeout(0);
    if (o.finMs > 0 && !socket.destroyed) timer = setTimeout(cut, o.finMs, 'fin');
  };
  if (socket.writableFinished) finSent();
  else socket.once('finish', finSent);
  socket.resume();
}
