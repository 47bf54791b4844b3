import type { Socket } from 'node:dgram';

/** The part of libuv's UDP handle (node's UDPWrap) that a flow needs beyond node's dgram API. */
interface UdpWrap {
  readonly fd: number;
  recvStart(): number;
  recvStop(): number;
  connect(address: string, port: number): number;
}

/**
 * The handle under a dgram socket. dgram has no public way to stop reading or to name the fd, and
 * its `_handle` getter prints a deprecation warning (DEP0112); node keeps the same handle under
 * its internal state symbol, which is read here and nowhere else.
 */
function wrapOf(socket: Socket): UdpWrap {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = state === undefined ? undefined : (socket as unknown as Record<symbol, { handle?: UdpWrap }>)[state].handle;
  if (handle === undefined) throw new Error('this node version keeps no UDP handle under the dgram state symbol');
  return handle;
}

/** Datagrams that arrive meanwhile wait in the socket's kernel buffer, for whoever reads next. */
export function pauseReading(socket: Socket): void {
  wrapOf(socket).recvStop();
}

export function resumeReading(socket: Socket): void {
  wrapOf(socket).recvStart();
}

/** The handle itself, to pass the socket to another process: node's IPC sends it as 'dgram.Native'. */
export function rawHandle(socket: Socket): object {
  return wrapOf(socket);
}

/**
 * Takes over a UDP socket that another process connected to (port, address). libuv sees at open
 * that the fd is connected, and then refuses both a second connect(2) and a send with an address
 * (EISCONN); node, however, tracks the connection itself and wants its connect() before a send
 * without address. So node's connect runs with the system call
 * replaced by success: the kernel socket, its source port and its queued datagrams stay as they were.
 */
export function adoptConnected(socket: Socket, fd: number, port: number, address: string, connected: (err?: Error) => void): void {
  socket.bind({ fd, exclusive: true });
  wrapOf(socket).connect = () => 0;
  socket.connect(port, address, connected);
}
