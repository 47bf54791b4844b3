import * as net from 'node:net';

/** The libuv handle of a listening socket, as node:cluster's primary creates and sends them. */
export interface ServerHandle {
  readonly fd: number;
  close(): void;
  /** TCP handles only; Unix-socket (pipe) handles have neither. */
  getsockname?(out: Record<string, unknown>): number;
  getpeername?(out: Record<string, unknown>): number;
}

type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => ServerHandle | number;

/**
 * Public since node 0.x for node:cluster's primary: binds a socket without listening or polling it,
 * or, given an fd, wraps that socket as a TCP or pipe handle by its kind (anything else: UV_EINVAL).
 * Returns a negative errno on failure.
 */
export const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
