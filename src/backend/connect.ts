import { connect as netConnect, type Socket } from 'node:net';
import type { Backend } from './backend';
import type { PickContext } from './balance';
import type { Server } from './server';
import type { Who } from '../proto/termination';
import type { ProxyEnds } from '../proto/proxy-ends';
import { encodeProxyHeader } from '../conn/proxy/encode';

/** What a connect loop reports to the stream that asked for a server connection. */
export interface ConnectSink {
  /**
   * A new attempt started: the stream owns `socket` from now on, to destroy it if the client leaves,
   * and moves its slot to `server` if the attempt goes to another server than the last.
   */
  attempting(server: Server, socket: Socket): void;
  connected(server: Server, socket: Socket, retries: number): void;
  /** The client's ends, for a server that takes a PROXY header (asked only then). */
  clientEnds(): ProxyEnds | undefined;
  /** Every attempt failed ('S' refused or reset, 's' timed out) or no server is usable for a retry ('P'). */
  failed(who: Who, retries: number): void;
}

const NONE: ReadonlySet<Server> = new Set();

/**
 * Connects to `first`, a server of `backend` where the stream holds a slot, retrying up to `retries`
 * times. With `redispatch` each retry asks the balancer for another server than those that failed
 * (all of them again once every one has failed, and the one it holds a slot on when the others are
 * full); without it, retries stay on the first server.
 */
export function connectToServer(backend: Backend, first: Server, ctx: PickContext, sink: ConnectSink): void {
  const { retries: maxRetries, redispatch, timeout } = backend.config;
  // Allocated on the first failure only: most sessions connect at once.
  let failedServers: Set<Server> | undefined;
  let retries = 0;
  let server: Server | undefined = first;

  const attempt = (): void => {
    if (server === undefined) return sink.failed('P', retries);
    const target = server;
    const socket = netConnect({ host: target.address, port: target.port, noDelay: true, allowHalfOpen: true });
    socket.setTimeout(timeout.connect);
    sink.attempting(target, socket);

    let settled = false;
    const fail = (who: Who): void => {
      // An error can follow a timeout on the same socket: only the first one counts.
      if (settled) return;
      settled = true;
      socket.removeListener('connect', onConnect);
      socket.destroy();
      target.connectFailed(who);
      if (retries >= maxRetries) return sink.failed(who, retries);
      retries++;
      failedServers ??= new Set();
      failedServers.add(target);
      if (redispatch) server = backend.pick(failedServers, ctx) ?? backend.pick(NONE, ctx) ?? (target.usable ? target : undefined);
      attempt();
    };
    const onError = (): void => fail('S');
    const onTimeout = (): void => fail('s');
    const onConnect = (): void => {
      socket.removeListener('error', onError);
      socket.removeListener('timeout', onTimeout);
      target.connectSucceeded();
      // Before any byte of the client: whoever got the socket next writes after it.
      if (target.sendProxy !== undefined) socket.write(encodeProxyHeader(target.sendProxy, sink.clientEnds()));
      sink.connected(target, socket, retries);
    };
    socket.on('error', onError);
    socket.on('timeout', onTimeout);
    socket.once('connect', onConnect);
  };
  attempt();
}
