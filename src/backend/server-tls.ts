import type { Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { ServerTlsConfig } from '../config/types';

type Tls = typeof import('node:tls');

/**
 * TLS towards one server, as a thread speaks it: one secure context (CA, client certificate), made
 * at the first connection from the PEM text the master read, and the client side of TLS over each
 * connected socket. node:tls loads only in a thread that has such a server.
 */
export class ServerTls {
  private context: SecureContext | undefined;
  private tls: Tls | undefined;

  constructor(private readonly config: ServerTlsConfig) {}

  /** The client side of TLS over `socket`, connected; the handshake starts at once. */
  wrap(socket: Socket): TLSSocket {
    const { config } = this;
    const tls = (this.tls ??= require('node:tls') as Tls);
    this.context ??= tls.createSecureContext({
      ...(config.caPem !== undefined && { ca: config.caPem }),
      ...(config.certPem !== undefined && { cert: config.certPem, key: config.keyPem }),
    });
    return tls.connect({
      socket,
      secureContext: this.context,
      rejectUnauthorized: config.verify,
      ...(config.sni !== undefined && { servername: config.sni }),
      // Without a name, the certificate is checked against the address connected to (its IP SANs).
      ...(config.sni === undefined && config.verify && { checkServerIdentity: (_host, cert) => tls.checkServerIdentity(socket.remoteAddress ?? '', cert) }),
      ...(config.alpn.length > 0 && { ALPNProtocols: config.alpn }),
    });
  }
}

/** What went wrong in a handshake to a server, for the log: OpenSSL's code and words. */
export function tlsFailure(err: Error): string {
  const { code } = err as NodeJS.ErrnoException;
  return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}
