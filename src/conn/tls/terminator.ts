import type { Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { TlsConfig } from '../../config/types';
import { ServerNames } from './sni';

/**
 * A TLS bind as one thread serves it: a secure context per certificate (built once, from the PEM
 * text the master read), chosen per connection by SNI, and the ALPN protocols offered.
 */
export class TlsTerminator {
  private readonly names: ServerNames<SecureContext>;
  private readonly alpn: string[] | undefined;
  /** Client certificates are asked for; refused without one that verifies when required. */
  private readonly verifyClient: TlsConfig['verifyClient'];

  constructor(readonly bind: string, config: TlsConfig) {
    const ca = config.clientCaPem;
    const contexts = config.certificates.map((c) => ({ names: c.names, value: createSecureContext({ cert: c.cert, key: c.key, ...(ca !== undefined && { ca }) }) }));
    this.verifyClient = config.verifyClient;
    // The master refuses a TLS bind without certificates; reaching here without them is a bug.
    if (contexts.length === 0) throw new Error(`${bind}: TLS bind without certificates (the master did not read them)`);
    this.names = new ServerNames(contexts, contexts[0].value);
    this.alpn = config.alpn.length > 0 ? config.alpn : undefined;
  }

  /** Whether clients are asked for a certificate (tls.clientCa). */
  get asksCertificate(): boolean {
    return this.verifyClient !== undefined;
  }

  /**
   * Why the client's certificate is refused, once the handshake is done; undefined when it is not.
   * tls.Server does this check itself for the sockets it accepts (node's onServerSocketSecure): a
   * socket wrapped here must do it, from the same OpenSSL verdict, and set `authorized` as it would.
   */
  refusedClient(socket: TLSSocket): string | undefined {
    if (this.verifyClient === undefined) return undefined;
    const verdict = (socket as unknown as { _handle: { verifyError(): NodeJS.ErrnoException | null } })._handle.verifyError();
    socket.authorized = verdict === null;
    if (verdict === null || this.verifyClient === 'optional') return undefined;
    return `client certificate refused: ${verdict.code !== undefined ? `${verdict.code}: ` : ''}${verdict.message}`;
  }

  /** The server side of TLS over an accepted socket; the handshake starts with the client's first bytes. */
  wrap(socket: Socket): TLSSocket {
    return new TLSSocket(socket, {
      isServer: true,
      secureContext: this.names.pick(undefined),
      SNICallback: (servername, done) => done(null, this.names.pick(servername)),
      ...(this.alpn !== undefined && { ALPNProtocols: this.alpn }),
      ...(this.verifyClient !== undefined && { requestCert: true, rejectUnauthorized: this.verifyClient === 'required' }),
    });
  }
}
