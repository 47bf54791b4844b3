import { leaveServer } from './handles';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * State bits of a connection's control and transport layers, set by whoever sees the event (the
 * stream handles the socket's events; no listener is added per connection just to keep flags).
 */
export const enum ConnFlag {
  CtrlReady = 1 << 0,
  XprtReady = 1 << 1,
  Error = 1 << 2,
}

/** raw: the bytes as they come. tls: TLS terminated here (src/conn/tls), over the accepted socket. */
export type Xprt = 'raw' | 'tls';

/** What a TLS handshake settled, for the mux and the logs. */
export interface TlsSession {
  /** The name the client asked for (SNI); '' without. */
  servername: string;
  /** The protocol agreed in ALPN; '' without. */
  alpn: string;
  /** The TLS version, such as "TLSv1.3". */
  version: string;
}

/**
 * One accepted client connection: the control layer (the socket), the transport layer above it (raw,
 * or TLS; the PROXY protocol sits here later) and their flags. The mux chosen for it reads and
 * writes through `ctrl` once `xprt` is ready: the accepted socket itself for raw, the TLS socket
 * over it once the handshake is done. A TLS connection's state lives in this process: it never
 * moves to another generation.
 */
export class Connection {
  flags = ConnFlag.CtrlReady;
  readonly acceptedAt = Date.now();
  readonly client: string;
  tls: TlsSession | undefined;
  private socket: Socket;
  /** The socket accepted: `socket` until a TLS socket wraps it. */
  private readonly accepted: Socket;

  constructor(
    ctrl: Socket,
    readonly xprt: Xprt,
  ) {
    this.socket = ctrl;
    this.accepted = ctrl;
    this.client = formatPeer(ctrl);
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

  /** The TLS handshake is done: from now on the mux reads and writes the decrypted stream. */
  secured(socket: TLSSocket): void {
    // What tls.Server sets once a server socket is secure, and node:http2 waits for otherwise: the
    // socket is wrapped here (src/conn/tls/terminator.ts), not accepted by a tls.Server.
    (socket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
    this.socket = socket;
    this.flags |= ConnFlag.XprtReady;
    const servername = (socket as TLSSocket & { servername?: string | false }).servername;
    this.tls = { servername: servername || '', alpn: socket.alpnProtocol || '', version: socket.getProtocol() ?? '' };
  }
}

/** "ip:port" for TCP peers, "unix" for Unix-socket peers (which have no address). */
export function formatPeer(socket: Socket): string {
  const { remoteAddress, remotePort } = socket;
  if (remoteAddress === undefined) return 'unix';
  return remoteAddress.includes(':') ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
}
