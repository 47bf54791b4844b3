// HTTP mode's options: what a frontend adds to requests, its head limits and timeouts, and each
// server's pool of idle connections. The frontend options mean something only with "mode": "http",
// so anywhere else they are refused rather than ignored; the pool is harmless on any server (only
// HTTP streams use it), since one backend may serve frontends of both modes.

import { parseDuration } from './duration';
import { isRecord, problem, type Problem } from './problems';
import type { FrontendConfig, HttpOptions, PoolConfig } from './types';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Bounds of maxRequestLine and maxHeaderSize: a head smaller than 256 bytes is useless, one beyond 1 MiB a liability. */
export const HEAD_SIZE_RANGE = [256, 1024 * 1024] as const;

/** HTTP/2 streams per connection: at least one, and few enough that one client cannot take every server slot. */
export const CONCURRENT_STREAMS_RANGE = [1, 1000] as const;

export const HTTP_DEFAULTS = {
  xForwardedFor: true,
  xForwardedProto: true,
  forwarded: false,
  xClientCertSubject: false,
  maxRequestLine: 8 * 1024,
  maxHeaderSize: 32 * 1024,
  maxConcurrentStreams: 100,
} as const satisfies HttpOptions;

export const HTTP_TIMEOUT_DEFAULTS = { httpRequest: '10s', httpKeepAlive: '10s' } as const;

/**
 * idleTimeout stays below the 5 s keep-alive timeout of Node's http server, the most common
 * backend: a connection the server is about to close is better not reused. maxIdle is a ceiling,
 * not a size: a thread never holds more idle connections than requests it had in flight at once,
 * and a ceiling below that closes a connection after each response and opens a new one for the
 * next request (at 64, 128 keep-alive clients cost 45 µs of CPU a request instead of 29 here).
 */
export const POOL_DEFAULTS: PoolConfig = { maxIdle: 1024, idleTimeout: 4_000 };

export function checkHttpOptions(name: string, frontend: unknown): Problem[] {
  if (!isRecord(frontend)) return [];
  const at = ['frontends', name];
  if (frontend.mode !== 'http') {
    const timeout = isRecord(frontend.timeout) ? frontend.timeout : {};
    const keys = [...(frontend.http !== undefined ? [['http']] : []), ...['httpRequest', 'httpKeepAlive'].filter((k) => timeout[k] !== undefined).map((k) => ['timeout', k])];
    return keys.map((path) => problem([...at, ...path], 'is an HTTP option; it needs "mode": "http"'));
  }
  const http = isRecord(frontend.http) ? frontend.http : {};
  const line = typeof http.maxRequestLine === 'number' ? http.maxRequestLine : HTTP_DEFAULTS.maxRequestLine;
  const head = typeof http.maxHeaderSize === 'number' ? http.maxHeaderSize : HTTP_DEFAULTS.maxHeaderSize;
  if (head >= line) return [];
  return [problem([...at, 'http', 'maxHeaderSize'], `is ${head}, below maxRequestLine (${line}); the head holds the request line, so make it at least as large`)];
}

/** The normalized HTTP settings of a frontend with "mode": "http". */
export function httpFrontendOf(raw: Raw): Pick<FrontendConfig, 'timeout' | 'http'> {
  const t = { ...HTTP_TIMEOUT_DEFAULTS, ...raw.timeout };
  return {
    timeout: { client: ms(t.client), clientFin: ms(t.clientFin), flow: ms(t.flow), handshake: ms(t.handshake), proxyHeader: ms(t.proxyHeader ?? t.client), httpRequest: ms(t.httpRequest), httpKeepAlive: ms(t.httpKeepAlive) },
    http: { ...HTTP_DEFAULTS, ...raw.http },
  };
}

export function poolOf(raw: Raw): PoolConfig {
  return { maxIdle: raw.maxIdle ?? POOL_DEFAULTS.maxIdle, idleTimeout: raw.idleTimeout === undefined ? POOL_DEFAULTS.idleTimeout : ms(raw.idleTimeout) };
}

function ms(v: unknown): number {
  const parsed = parseDuration(v);
  if (parsed === undefined) throw new Error(`validated duration failed to parse: ${JSON.stringify(v)}`);
  return parsed;
}
