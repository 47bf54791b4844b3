import { newUdpHandle } from '../src/conn/handles';
import { explain } from './bind-error-text';
import type { ServerHandle } from './server-handle';

/** libuv's flag for SO_REUSEADDR (uv.h). */
const UV_UDP_REUSEADDR = 4;

/** libuv's UDP handle, which node:cluster's primary binds for its workers too. */
interface UdpHandle extends ServerHandle {
  bind(address: string, port: number, flags: number): number;
  bind6(address: string, port: number, flags: number): number;
}

/**
 * A bound UDP socket that is never read here: no recvStart, so the master never takes a datagram.
 * The raw handle (not a dgram.Socket) is what node's IPC sends as 'dgram.Native', and each send is
 * a new fd in the worker. dgram's own _createSocketHandle would do the same but prints a
 * deprecation (DEP0112).
 * SO_REUSEADDR, so that each flow's socket (src/datagram/flow-socket.ts) can bind beside it and be
 * connected to its client. A second bind of the address still fails with EADDRINUSE unless that
 * socket sets SO_REUSEADDR too.
 */
export function bindUdp(host: string, port: number, family: 4 | 6): ServerHandle {
  const handle = newUdpHandle() as UdpHandle;
  const err = family === 6 ? handle.bind6(host, port, UV_UDP_REUSEADDR) : handle.bind(host, port, UV_UDP_REUSEADDR);
  if (err !== 0) {
    handle.close();
    throw new Error(explain(err, 'udp'));
  }
  return handle;
}
