// One health check of one server, from the master: a TCP connect, or an HTTP request whose status
// must fall in the expected range. Either way the connection is closed as soon as the answer is known.
// A check speaks to the server as traffic does: after a PROXY header (LOCAL, or UNKNOWN in v1: it
// speaks for no client) when the server takes one, and over TLS, verified the same way, when the
// server has `tls`.
import { connect, type Socket } from 'node:net';
import { encodeProxyHeader } from '../src/conn/proxy/encode';
import { ServerTls, tlsFailure } from '../src/backend/server-tls';
import type { CheckConfig, HttpCheckConfig, ServerConfig } from '../src/config/types';

export interface CheckResult {
  ok: boolean;
  /** What the check found, for people: "connected", "HTTP 200", "connection refused", "timeout after 1000 ms". */
  result: string;
  ms: number;
}

/** Checks `server` once at `address` (for a host name, the address it resolved to) and calls `done` once, unless cancelled first. Returns the cancel function. */
export function probe(server: ServerConfig, address: string, check: CheckConfig, done: (result: CheckResult) => void): () => void {
  const started = Date.now();
  let settled = false;
  let close = (): void => {};
  const finish = (ok: boolean, result: string): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    close();
    done({ ok, result, ms: Date.now() - started });
  };
  const timer = setTimeout(() => finish(false, `timeout after ${check.timeout} ms`), check.timeout);
  close = check.http === undefined ? connectTo(server, address, finish) : ask(server, address, check.http, finish);
  return () => {
    settled = true;
    clearTimeout(timer);
    close();
  };
}

type Finish = (ok: boolean, result: string) => void;

/** Returns what closes the connection. */
function connectTo(server: ServerConfig, address: string, finish: Finish): () => void {
  const socket = open(server, address);
  if (server.tls === undefined) socket.on('connect', () => finish(true, 'connected'));
  else socket.on('secureConnect', () => finish(true, 'TLS handshake done'));
  socket.on('error', (err) => finish(false, describe(err, server)));
  return () => socket.destroy();
}

/** A connection to the server, its PROXY header written and TLS begun when the server has them. */
function open(server: ServerConfig, address: string): Socket {
  const socket = connect({ host: address, port: server.port });
  if (server.sendProxy !== undefined) socket.write(encodeProxyHeader(server.sendProxy, undefined));
  return server.tls === undefined ? socket : new ServerTls(server.tls).wrap(socket);
}

function ask(server: ServerConfig, address: string, http: HttpCheckConfig, finish: Finish): () => void {
  const { min, max } = http.status;
  // node:http loads with the first HTTP check, not in every master.
  const { request } = require('node:http') as typeof import('node:http');
  const req = request({
    host: address,
    port: server.port,
    method: http.method,
    path: http.path,
    headers: { host: http.host ?? hostHeader(server), 'user-agent': 'ferry-health-check', connection: 'close' },
    // node:http takes createConnection only without an agent.
    ...(server.sendProxy !== undefined || server.tls !== undefined ? { createConnection: () => open(server, address) } : { agent: false }),
  });
  req.on('response', (res) => {
    res.on('error', () => {});
    res.resume();
    const status = res.statusCode ?? 0;
    const ok = status >= min && status <= max;
    finish(ok, ok ? `HTTP ${status}` : `HTTP ${status}, expected ${min === max ? min : `${min}-${max}`}`);
  });
  req.on('error', (err) => finish(false, describe(err, server)));
  req.end();
  return () => req.destroy();
}

function hostHeader(server: ServerConfig): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
};

function describe(err: NodeJS.ErrnoException, server: ServerConfig): string {
  const code = err.code ?? '';
  if (code.startsWith('HPE_')) return `not an HTTP response (${code})`;
  // A system call's error is the connection's; any other, with TLS on, is the handshake's.
  if (server.tls !== undefined && err.syscall === undefined && REASONS[code] === undefined) return `TLS: ${tlsFailure(err)}`;
  return REASONS[code] ?? (code || err.message);
}
