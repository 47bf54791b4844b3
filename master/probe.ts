// One health check of one server, from the master: a TCP connect, or an HTTP request whose status
// must fall in the expected range. Either way the connection is closed as soon as the answer is known.
import { connect } from 'node:net';
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
  close = check.http === undefined ? connectTo(address, server.port, finish) : ask(server, address, check.http, finish);
  return () => {
    settled = true;
    clearTimeout(timer);
    close();
  };
}

type Finish = (ok: boolean, result: string) => void;

/** Returns what closes the connection. */
function connectTo(host: string, port: number, finish: Finish): () => void {
  const socket = connect({ host, port });
  socket.on('connect', () => finish(true, 'connected'));
  socket.on('error', (err) => finish(false, describe(err)));
  return () => socket.destroy();
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
    agent: false,
  });
  req.on('response', (res) => {
    res.on('error', () => {});
    res.resume();
    const status = res.statusCode ?? 0;
    const ok = status >= min && status <= max;
    finish(ok, ok ? `HTTP ${status}` : `HTTP ${status}, expected ${min === max ? min : `${min}-${max}`}`);
  });
  req.on('error', (err) => finish(false, describe(err)));
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

function describe(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (code.startsWith('HPE_')) return `not an HTTP response (${code})`;
  return REASONS[code] ?? (code || err.message);
}
