import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { BindAddress, BindConfig } from './config/types';
import type { ListenTarget } from './ipc';

export type Protocol = 'tcp4' | 'tcp6' | 'unix' | 'abns';

export function protocolOf(address: BindAddress): Protocol {
  if (address.kind === 'tcp') return address.family === 4 ? 'tcp4' : 'tcp6';
  return address.kind;
}

/**
 * One listening socket as a thread holds it: this thread's own dup of the master's socket. Closing the
 * dup stops this thread accepting; the socket and its kernel accept queue live on in the master and in
 * the other threads' dups.
 */
export class Receiver {
  readonly protocol: Protocol;
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
  listen(target: ListenTarget, ready?: () => void): void {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, this.onConnection);
    server.on('error', this.onError);
    // listen() on a handle or fd re-arms the existing socket (listen(2) on a listening socket only
    // updates its backlog); it never binds.
    server.listen(target, this.backlog, ready);
    this.server = server;
  }

  /** Closes this thread's dup. Accepted connections are not affected. */
  close(): void {
    this.server?.close();
    this.server = undefined;
  }
}
