import { connect as netConnect, type Socket } from 'node:net';
import type { Backend } from './backend';
import type { PickContext } from './balance';
import type { Server } from './server';
import type { TLSSocket } from 'node:tls';
import { encodeProxyHeader } from '../conn/proxy/encode';
import type { ProxyEnds } from '../proto/proxy-ends';
import type { Who } from '../proto/termination';
import { tlsFailure } from './server-tls';

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
  /**
   * Every attempt failed ('S' refused or reset, 's' timed out), or no server is usable for a retry
   * ('P'), or TLS to the server failed (`tls`: why, for the log).
   */
  failed(who: Who, retries: number, tls?: string): void;
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
    let socket: Socket = netConnect({ host: target.address, port: target.port, noDelay: true, allowHalfOpen: true });
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
      if (redispatch) {
        server = backend.pick(failedServers, ctx) ?? backend.pick(NONE, ctx) ?? (target.usable ? target : undefined);
        if (server !== undefined && server !== target) backend.traffic.redispatches++;
      }
      attempt();
    };
    const onError = (): void => fail('S');
    const onTimeout = (): void => fail('s');
    const connected = (): void => {
      socket.removeListener('error', onError);
      socket.removeListener('timeout', onTimeout);
      target.connectSucceeded();
      sink.connected(target, socket, retries);
    };
    const onConnect = (): void => {
      // Before any byte of the client, and before TLS: whoever gets the socket next writes after it.
      if (target.sendProxy !== undefined) socket.write(encodeProxyHeader(target.sendProxy, sink.clientEnds()));
      if (target.tls === undefined) return connected();
      socket.removeListener('error', onError);
      socket.removeListener('timeout', onTimeout);
      socket = secure(target, socket, timeout.connect, sink, retries, (who) => fail(who));
      socket.once('secureConnect', connected);
    };
    socket.on('error', onError);
    socket.on('timeout', onTimeout);
    socket.once('connect', onConnect);
  };
  attempt();
}

/**
 * The TLS handshake over a connected socket, within timeout.connect again, counted from the TCP
 * connect. A timeout is a connect timeout (retried); a refused certificate or handshake is not
 * retried, since every attempt would meet it again: the stream fails with the reason (502 in HTTP
 * mode).
 */
function secure(target: Server, raw: Socket, timeoutMs: number, sink: ConnectSink, retries: number, timedOut: (who: Who) => void): TLSSocket {
  // The TLS socket has the timer from here; the raw one's would fire for no listener.
  raw.setTimeout(0);
  const socket = target.tls!.wrap(raw);
  socket.setTimeout(timeoutMs);
  sink.attempting(target, socket);
  const onError = (err: Error): void => {
    socket.removeListener('timeout', onTimeout);
    socket.destroy();
    target.connectFailed('S');
    sink.failed('S', retries, `TLS to server ${target.name} failed: ${tlsFailure(err)}`);
  };
  const onTimeout = (): void => {
    socket.removeListener('error', onError);
    socket.on('error', () => undefined);
    timedOut('s');
  };
  socket.once('error', onError);
  socket.once('timeout', onTimeout);
  socket.once('secureConnect', () => {
    socket.removeListener('error', onError);
    socket.removeListener('timeout', onTimeout);
  });
  return socket;
}
