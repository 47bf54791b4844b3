import type { Socket } from 'node:net';

/**
 * State bits of a connection's control and transport layers, set by whoever sees the event (the
 * stream handles the socket's events; no listener is added per connection just to keep flags).
 */
export const enum ConnFlag {
  CtrlReady = 1 << 0,
  XprtReady = 1 << 1,
  Error = 1 << 2,
}

export type Xprt = 'raw';

/**
 * One accepted client connection: the control layer (the socket), the transport layer above it (raw
 * for now; TLS and the PROXY protocol sit here later) and their flags. The mux chosen for
 * it reads and writes through `ctrl` once `xprt` is ready.
 */
export class Connection {
  flags = ConnFlag.CtrlReady;
  readonly acceptedAt = Date.now();
  readonly client: string;

  constructor(
    readonly ctrl: Socket,
    readonly xprt: Xprt,
  ) {
    this.client = formatPeer(ctrl);
    // A raw transport has no handshake: it is ready as soon as the socket is.
    this.flags |= ConnFlag.XprtReady;
  }
}

/** "ip:port" for TCP peers, "unix" for Unix-socket peers (which have no address). */
export function formatPeer(socket: Socket): string {
  const { remoteAddress, remotePort } = socket;
  if (remoteAddress === undefined) return 'unix';
  return remoteAddress.includes(':') ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
}
