import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { SocketRef } from '../proto/ipc';

/** A socket given by fd number (in a worker thread) rather than as the handle node's IPC made. */
export function isFd(ref: SocketRef): ref is { fd: number } {
  return Object.getPrototypeOf(ref) === Object.prototype && typeof (ref as { fd?: unknown }).fd === 'number';
}

export function fdOf(handle: object): number {
  const fd = (handle as { fd?: unknown }).fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('received a socket handle without a file descriptor');
  return fd;
}

/**
 * Lets a socket go without closing it: a newer generation's stack in this same thread has wrapped
 * its handle in a socket of its own. Without a handle, destroying this one closes nothing.
 */
export function letGo(socket: Socket): void {
  (socket as unknown as { _handle: object | null })._handle = null;
}

/** What node:net keeps of the listening server on each socket it accepted (to count its connections). */
type Accepted = { server: Listening | null; _server: Listening | null };
type Listening = { _connections: number; _emitCloseIfDrained?(): void };

/**
 * A socket lets go of the listening server that accepted it, as if it had closed: a connection that
 * moves to a newer stack of its thread (a reload in place) would otherwise keep that server, its
 * listener, and the whole older stack behind them, alive for as long as it lives.
 */
export function leaveServer(socket: Socket): void {
  const accepted = socket as unknown as Accepted;
  const server = accepted._server;
  if (server === null || server === undefined) return;
  accepted.server = null;
  accepted._server = null;
  server._connections--;
  server._emitCloseIfDrained?.();
}

/**
 * A handle whose socket stopped reading for a hand-over (stream/stream.ts stopReading marks it as
 * reading, so that node leaves it alone): the socket that takes it over in the same thread must
 * start reading it afresh.
 */
export function readAfresh(handle: object): void {
  (handle as { reading: boolean }).reading = false;
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

type UdpBinding = { UDP: new () => { open(fd: number): number; close(): void } };

/**
 * libuv's UDP handle, unbound and unread: what node's IPC sends as 'dgram.Native'.
 * process.binding('udp_wrap') is on node's allow list, without warning.
 */
export function newUdpHandle(): object {
  const { UDP } = (process as unknown as { binding(name: 'udp_wrap'): UdpBinding }).binding('udp_wrap');
  return new UDP();
}

/** handleOnFd for a UDP socket (a flow's upstream), under the same rules. */
export function udpHandleOnFd(fd: number): object {
  const handle = newUdpHandle() as { open(fd: number): number };
  const err = handle.open(fd);
  if (err !== 0) throw new Error(`cannot take UDP socket fd ${fd} (libuv error ${err})`);
  return handle;
}

/** Closes a socket received that will not be used. */
export function closeRef(ref: SocketRef): void {
  if (isFd(ref)) closeSync(ref.fd);
  else (ref as { close(): void }).close();
}
