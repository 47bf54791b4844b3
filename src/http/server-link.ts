import type { Socket } from 'node:net';
import type { PooledLink } from '../backend/pooled-link-t';
import type { Backend } from '../backend/backend';
import type { Server } from '../backend/server';
import type { Who } from '../proto/termination';
import { readDirectly } from '../conn/handle-reader';
import { HandleWriter } from '../conn/handle-writer';
import { restartTimeout } from '../conn/stream-handle';

/**
 * Why the proxy closes a server connection, stated by whoever closes it rather than guessed from
 * the callback that fired: 'final', the exchange is over and the connection is not kept (not
 * reusable, or the pool is full, or the thread stops); 'drop', the exchange failed on it (error,
 * timeout, a bad response, the client left) and the next request connects anew; 'retry', a reused
 * connection died before any response byte and the request goes again on a fresh connection.
 */
export type LinkClose = 'final' | 'drop' | 'retry';

/** The HTTP stream that uses a server connection now. */
export interface LinkUser {
  serverData(data: Buffer): void;
  /** The server closed its side, or the connection broke ('S'), or idled past timeout.server ('s'). */
  serverEnded(who: Who): void;
  /** The server took every byte written: the client may send more. */
  serverDrained(): void;
}

/**
 * One server connection of HTTP mode, used by one stream at a time and parked in its server's pool
 * between them. Its socket's listeners are added once, for its whole life, and call whoever uses it
 * now: no closure per request. Idle in the pool, any byte or close from the server ends it.
 */
export class ServerLink implements PooledLink {
  user: LinkUser | undefined;
  /** Requests sent on it so far: more than one means it was reused. */
  requests = 0;
  /** Whether the pool holds it now. */
  parked = false;
  /** Why the proxy closed it; undefined while open, or when the server closed it first (then the user decides). */
  closedFor: LinkClose | undefined;
  private closed = false;
  /** Writes to the server, below node's streams where the socket allows. */
  readonly out: HandleWriter;
  private readonly readByNode: () => void;

  constructor(
    readonly socket: Socket,
    /** Whose pool it parks in and whose counters it adds to: another stack's after a reload in place (handPoolsOver). */
    public server: Server,
    /** The client connection it belongs to, when it sent the server that client's PROXY header. */
    readonly owner?: object,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onEnd);
    socket.on('timeout', this.onTimeout);
    socket.on('close', this.onEnd);
    socket.on('drain', this.onDrain);
    this.out = new HandleWriter(socket);
    this.readByNode = readDirectly(socket, this.onData);
  }

  /** Gives the socket up, for a tunnel: its listeners go, the connection is no longer this link's. */
  release(): Socket {
    const { socket } = this;
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('error', this.onEnd);
    socket.off('timeout', this.onTimeout);
    socket.off('close', this.onEnd);
    socket.off('drain', this.onDrain);
    this.readByNode();
    this.user = undefined;
    this.closed = true;
    return socket;
  }

  private readonly onData = (data: Buffer): void => (this.user === undefined ? this.destroy('drop') : this.user.serverData(data));
  private readonly onEnd = (): void => this.ended('S');
  private readonly onTimeout = (): void => this.ended('s');
  private readonly onDrain = (): void => this.user?.serverDrained();

  get alive(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** Gives it to `user` for one request, with `timeout` ms of server inactivity allowed. */
  use(user: LinkUser, timeout: number): void {
    this.user = user;
    this.requests++;
    restartTimeout(this.socket, timeout);
    this.socket.resume();
  }

  destroy(reason: LinkClose): void {
    this.closedFor ??= reason;
    this.user = undefined;
    this.closed = true;
    this.socket.destroy();
    if (this.parked) this.server.pool.remove(this);
  }

  private ended(who: Who): void {
    const user = this.user;
    // Idle in the pool: the server closed it, or it idled out; it is of no use any more.
    if (user === undefined) return this.destroy('drop');
    this.user = undefined;
    this.closed = true;
    user.serverEnded(who);
  }
}

/**
 * A reload in place: each server of `from` (a retiring stack's backends) that the next generation
 * keeps as it was, at the same address, hands its idle connections over to it, and those its
 * streams park later; the next generation reuses them rather than connect anew. A server whose
 * settings changed keeps its connections, which close with its stack.
 */
export function handPoolsOver(from: Iterable<Backend>, to: ReadonlyMap<string, Backend>): void {
  for (const backend of from) {
    const next = to.get(backend.name);
    if (next === undefined) continue;
    for (const server of backend.servers) {
      const same = next.servers.find((s) => s.name === server.name);
      if (same === undefined || same.address !== server.address || JSON.stringify(same.config) !== JSON.stringify(server.config)) continue;
      server.pool.handOver(same.pool, (link) => {
        (link as ServerLink).server = same;
      });
    }
  }
}
