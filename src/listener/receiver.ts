import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { BindAddress, BindConfig } from '../config/types';
import { isFd } from '../conn/handles';
import type { SocketRef } from '../proto/ipc';

/** node:net's internal listen step, stable since node 0.x because cluster and user code wrap it. */
type ListenableServer = NetServer & {
  _handle: object | null;
  _listen2(address: null, port: number | null, addressType: number | null, backlog: number, fd?: number): void;
};

/** 'fd': a socket passed by the service manager, whose kind only the master knows. */
export type Protocol = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix' | 'abns' | 'fd';

export function protocolOf(address: BindAddress): Protocol {
  if (address.kind === 'tcp') return address.family === 4 ? 'tcp4' : 'tcp6';
  if (address.kind === 'udp') return address.family === 4 ? 'udp4' : 'udp6';
  return address.kind;
}

/**
 * One listening socket as a thread holds it: this thread's own dup of the master's socket. Closing the
 * dup stops this thread accepting; the socket and its kernel accept queue live on in the master and in
 * the other threads' dups.
 */
export class Receiver {
  readonly protocol: Protocol;
  /** Connections accepted through this thread's dups, over its whole life. */
  accepted = 0;
  private server: NetServer | undefined;

  constructor(
    readonly bind: BindConfig,
    private readonly backlog: number,
    private readonly onConnection: (socket: Socket) => void,
    private readonly onError: (err: Error) => void,
  ) {
    this.protocol = protocolOf(bind.address);
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Starts accepting on a dup received from the master; `ready` runs once the kernel accepts for us. */
  listen(target: SocketRef, ready?: () => void): void {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
      this.accepted++;
      this.onConnection(socket);
    }) as ListenableServer;
    server.on('error', this.onError);
    if (ready !== undefined) server.once('listening', ready);
    // server.listen() would route an fd or a Unix-socket handle through node:cluster in a cluster
    // worker, and the cluster primary would then open the worker's fd number in its own fd table.
    // _listen2 is the step listen() ends in for a socket that already exists: listen(2) on it (which on
    // a listening socket only updates the backlog), then accept. It never binds.
    if (isFd(target)) {
      server._listen2(null, null, null, this.backlog, target.fd);
    } else {
      server._handle = target;
      server._listen2(null, -1, -1, this.backlog);
    }
    this.server = server;
  }

  /** Closes this thread's dup. Accepted connections are not affected. */
  close(): void {
    this.server?.close();
    this.server = undefined;
  }
}
