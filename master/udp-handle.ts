import { newUdpHandle } from '../src/conn/handles';
import { explain } from './bind-error-text';
import type { ServerHandle } from './server-handle';

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
 * No SO_REUSEADDR: a second bind of the address fails with EADDRINUSE, as it should.
 */
export function bindUdp(host: string, port: number, family: 4 | 6): ServerHandle {
  const handle = newUdpHandle() as UdpHandle;
  const err = family === 6 ? handle.bind6(host, port, 0) : handle.bind(host, port, 0);
  if (err !== 0) {
    handle.close();
    throw new Error(explain(err, 'udp'));
  }
  return handle;
}
