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

  constructor(readonly bind: string, config: TlsConfig) {
    const contexts = config.certificates.map((c) => ({ names: c.names, value: createSecureContext({ cert: c.cert, key: c.key }) }));
    // The master refuses a TLS bind without certificates; reaching here without them is a bug.
    if (contexts.length === 0) throw new Error(`${bind}: TLS bind without certificates (the master did not read them)`);
    this.names = new ServerNames(contexts, contexts[0].value);
    this.alpn = config.alpn.length > 0 ? config.alpn : undefined;
  }

  /** The server side of TLS over an accepted socket; the handshake starts with the client's first bytes. */
  wrap(socket: Socket): TLSSocket {
    return new TLSSocket(socket, {
      isServer: true,
      secureContext: this.names.pick(undefined),
      SNICallback: (servername, done) => done(null, this.names.pick(servername)),
      ...(this.alpn !== undefined && { ALPNProtocols: this.alpn }),
    });
  }
}
