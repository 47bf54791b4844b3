import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from './net';

/** What an HTTP test backend saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  trailers: Record<string, string>;
}

export interface HttpBackend {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  seen: SeenRequest[];
  /** Answers the request held at `/hold/NAME`. */
  release(name: string): void;
  /** Closes the keep-alive connections that wait for a next request. */
  closeIdle(): void;
  close(): Promise<void>;
}

/**
 * A node:http server that records each request and answers with it as JSON. `/chunked` answers in
 * two chunks with a trailer; `/delay/N` answers after N ms; `/status/N` with status N; `/hold/NAME`
 * once the test calls release(NAME).
 */
export async function httpBackend(): Promise<HttpBackend> {
  const sockets = new Set<Socket>();
  const b: HttpBackend = {
    port: 0,
    connections: 0,
    seen: [],
    release: (name) => {
      held.get(name)?.();
      held.delete(name);
    },
    closeIdle: () => server.closeIdleConnections(),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const held = new Map<string, () => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString(), trailers: req.trailers as Record<string, string> };
      b.seen.push(seen);
      const url = req.url!;
      if (url === '/chunked') {
        res.setHeader('Trailer', 'X-Sum');
        res.write('part1-');
        res.write('part2');
        res.addTrailers({ 'X-Sum': '11' });
        res.end();
        return;
      }
      const delay = /^\/delay\/(\d+)/.exec(url);
      const status = /^\/status\/(\d+)/.exec(url);
      const hold = /^\/hold\/(\w+)/.exec(url);
      const answer = (): void => {
        res.statusCode = status === null ? 200 : Number(status[1]);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(seen));
      };
      if (hold !== null) held.set(hold[1], answer);
      else setTimeout(answer, delay === null ? 0 : Number(delay[1]));
    });
  });
  server.on('connection', (s: Socket) => {
    b.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  b.port = await listen(server as unknown as import('node:net').Server);
  return b;
}

/** A raw response's status code (the first one, if several came). */
export function statusOf(raw: Buffer | string): number {
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(String(raw));
  return m === null ? 0 : Number(m[1]);
}

/** Resolves once `condition` holds (checked every 5 ms); rejects after `timeoutMs`. */
export function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 5);
    };
    check();
  });
}
