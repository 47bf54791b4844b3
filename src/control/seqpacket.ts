import type { SeqpacketSocket } from 'node-unix-socket';

/** node-unix-socket aborts the process when a socket is destroyed from inside one of its own callbacks. */
export function destroyLater(socket: SeqpacketSocket): void {
  setImmediate(() => socket.destroy());
}
