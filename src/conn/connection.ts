import { leaveServer } from './handles';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ProxyEnds } from '../proto/proxy-ends';

/**
 * State bits of a connection's control and transport layers, set by whoever sees the event (the
 * stream handles the socket's events; no listener is added per connection just to keep flags).
 */
export const enum ConnFlag {
  CtrlReady = 1 << 0,
  XprtReady = 1 << 1,
  Error = 1 << 2,
}

/**
 * raw: the bytes as they come. tls: TLS terminated here (src/conn/tls), over the accepted socket.
 * Either may begin with a PROXY header (src/conn/proxy), read before anything else.
 */
export type Xprt = 'raw' | 'tls';

/** What a TLS handshake settled, for the mux and the logs. */
export interface TlsSession {
  /** The name the client asked for (SNI); '' without. */
  servername: string;
  /** The protocol agreed in ALPN; '' without. */
  alpn: string;
  /** The TLS version, such as "TLSv1.3". */
  version: string;
  /** The client's certificate, on binds that ask for one (tls.clientCa): its subject, and whether it verified. */
  client?: { subject: string; verified: boolean };
}

/**
 * One accepted client connection: the control layer (the socket), the transport layer above it (raw,
 * or TLS, either after a PROXY header) and their flags. The mux chosen for it reads and
 * writes through `ctrl` once `xprt` is ready: the accepted socket itself for raw, the TLS socket
 * over it once the handshake is done. A TLS connection's state lives in this process: it never
 * moves to another generation.
 */
export class Connection {
  flags = ConnFlag.CtrlReady;
  readonly acceptedAt = Date.now();
  /** "ip:port" of the client, for logs: the peer's, or the one its PROXY header gave. */
  client: string;
  /** The client's address, for balancing by source and X-Forwarded-For. */
  address: string | undefined;
  /** What the connection's PROXY header said; absent without one. */
  proxied: ProxyEnds | undefined;
  tls: TlsSession | undefined;
  private socket: Socket;
  /** The socket accepted: `socket` until a TLS socket wraps it. */
  private readonly accepted: Socket;

  constructor(
    ctrl: Socket,
    readonly xprt: Xprt,
    /** What a PROXY header said, read in an older generation (the envelope carries it). */
    proxied?: ProxyEnds,
  ) {
    this.socket = ctrl;
    this.accepted = ctrl;
    this.client = formatPeer(ctrl);
    this.address = ctrl.remoteAddress;
    if (proxied !== undefined) this.proxy(proxied);
    // A raw transport has no handshake: it is ready as soon as the socket is.
    if (xprt === 'raw') this.flags |= ConnFlag.XprtReady;
  }

  get ctrl(): Socket {
    return this.socket;
  }

  /** A reload in place: the connection carries on under a newer stack, and lets go of the older one's listener (handles.ts leaveServer). */
  leaveListener(): void {
    leaveServer(this.accepted);
    if (this.socket !== this.accepted) leaveServer(this.socket);
  }

  /** The protocol the mux is chosen by: the one agreed in ALPN, '' when none was. */
  get alpn(): string {
    return this.tls?.alpn ?? '';
  }

  /** The PROXY header read: its source is the client from now on (a LOCAL header keeps the peer's). */
  proxy(ends: ProxyEnds): void {
    this.proxied = ends;
    if (ends.source === undefined) return;
    const { address, port } = ends.source;
    this.address = address;
    this.client = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  }

  /**
   * Both ends as a PROXY header to a server tells them (sendProxy): the header's, or the socket's;
   * undefined for a Unix client. Worked out when a server asks only.
   */
  get ends(): ProxyEnds | undefined {
    if (this.proxied !== undefined) return this.proxied;
    const { remoteAddress, remotePort, localAddress, localPort } = this.ctrl;
    if (remoteAddress === undefined || localAddress === undefined) return undefined;
    return { source: { address: remoteAddress, port: remotePort! }, destination: { address: localAddress, port: localPort! } };
  }

  /** The TLS handshake is done: from now on the mux reads and writes the decrypted stream. */
  secured(socket: TLSSocket, askedCertificate = false): void {
    // What tls.Server sets once a server socket is secure, and node:http2 waits for otherwise: the
    // socket is wrapped here (src/conn/tls/terminator.ts), not accepted by a tls.Server.
    (socket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
    this.socket = socket;
    this.flags |= ConnFlag.XprtReady;
    const servername = (socket as TLSSocket & { servername?: string | false }).servername;
    this.tls = { servername: servername || '', alpn: socket.alpnProtocol || '', version: socket.getProtocol() ?? '', ...(askedCertificate && clientCertificate(socket)) };
  }
}

/** The subject of the certificate a client presented, as "CN=a, O=b"; nothing when it sent none. */
function clientCertificate(socket: TLSSocket): Pick<TlsSession, 'client'> {
  const cert = socket.getPeerCertificate();
  if (cert === null || cert.subject === undefined) return {};
  const subject = Object.entries(cert.subject).map(([k, v]) => `${k}=${[v].flat().join('+')}`).join(', ');
  return { client: { subject, verified: socket.authorized } };
}

/** "ip:port" for TCP peers, "unix" for Unix-socket peers (which have no address). */
export function formatPeer(socket: Socket): string {
  const { remoteAddress, remotePort } = socket;
  if (remoteAddress === undefined) return 'unix';
  return remoteAddress.includes(':') ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
}
