import { Socket } from 'node:net';
import type { SocketRef } from './ipc';

/** A socket given by fd number (in a worker thread) rather than as the handle node's IPC made. */
export function isFd(ref: SocketRef): ref is { fd: number } {
  return Object.getPrototypeOf(ref) === Object.prototype && typeof (ref as { fd?: unknown }).fd === 'number';
}

export function fdOf(handle: object): number {
  const fd = (handle as { fd?: unknown }).fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('received a socket handle without a file descriptor');
  return fd;
}

/** A connected socket taken over from another generation, ready to read and write. */
export function socketFrom(ref: SocketRef): Socket {
  const options = { allowHalfOpen: true, readable: true, writable: true };
  return isFd(ref) ? new Socket({ ...options, fd: ref.fd }) : new Socket({ ...options, handle: ref } as never);
}

/**
 * A handle on an fd a worker thread holds, for the coordinator to send over IPC. It never reads,
 * and it is never closed: the thread closes the fd once the message has left, after which the
 * number may belong to another socket.
 */
export function handleOnFd(fd: number): object {
  return (new Socket({ fd, readable: false, writable: false }) as unknown as { _handle: object })._handle;
}
