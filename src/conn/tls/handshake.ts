import type { TLSSocket } from 'node:tls';
import type { Connection } from '../connection';
import type { Termination, Who } from '../../proto/termination';
import type { TlsTerminator } from './terminator';

/** Why a handshake did not complete: who ended it (the stage is always the handshake) and how. */
export interface HandshakeFailure {
  termination: Termination;
  reason: string;
}

/**
 * The server side of the TLS handshake of one accepted connection, bounded by a deadline for the
 * whole of it (a client that trickles its bytes cannot stretch it). `done` is called once: without
 * a failure when the connection is secured (its mux can be chosen by the ALPN result), with one
 * when the socket is closed.
 */
export class Handshake {
  private readonly socket: TLSSocket;
  private readonly timer: NodeJS.Timeout | undefined;
  private finished = false;
  private readonly onError = (err: Error): void => this.fail('C', describe(err));
  private readonly onClose = (): void => this.fail('C', 'the client closed the connection during the handshake');

  constructor(
    conn: Connection,
    terminator: TlsTerminator,
    timeoutMs: number,
    private readonly done: (failure?: HandshakeFailure) => void,
  ) {
    const socket = terminator.wrap(conn.ctrl);
    this.socket = socket;
    socket.once('secure', () => {
      const refused = terminator.refusedClient(socket);
      if (refused !== undefined) return this.fail('C', refused);
      if (!this.settle()) return;
      conn.secured(socket, terminator.asksCertificate);
      done();
    });
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    if (timeoutMs > 0) this.timer = setTimeout(() => this.fail('c', `no complete handshake within ${timeoutMs}ms`), timeoutMs);
  }

  /** Hard stop: the handshake ends here. */
  abort(): void {
    this.fail('K', 'closed by a hard stop');
  }

  private fail(who: Who, reason: string): void {
    if (!this.settle()) return;
    this.socket.destroy();
    this.done({ termination: `${who}T`, reason });
  }

  /** Stops watching; false when it already ended. The mux handles the socket's events from here. */
  private settle(): boolean {
    if (this.finished) return false;
    this.finished = true;
    clearTimeout(this.timer);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    return true;
  }
}

/** OpenSSL's reason without its library prefix, such as "wrong version number". */
function describe(err: Error): string {
  const { code, reason } = err as Error & { code?: string; reason?: string };
  return reason ?? (code !== undefined ? `${code}: ${err.message}` : err.message);
}
