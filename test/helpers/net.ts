import { createSocket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';

export function listen(server: Server, port = 0, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

/** Every port freePort has handed out in this process. */
const handedOut = new Set<number>();

/**
 * A loopback port nobody listens on right now (bound to learn it, then released), free for TCP and
 * for UDP alike: tests bind both kinds, and a port the kernel found free for TCP may be a UDP
 * socket's that the same test opened a moment before. Never one it handed out before: a released
 * port can come back from the kernel, and two calls in a row (`[web, admin]`) would then name one
 * port twice, which its second bind finds in use.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const s = createServer();
    const port = await listen(s);
    await new Promise((r) => s.close(r));
    if (handedOut.has(port) || !(await udpFree(port))) continue;
    handedOut.add(port);
    return port;
  }
}

function udpFree(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

export interface TestServer {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** Where a test server listens: 127.0.0.1 on a free port unless told otherwise. */
export interface At {
  host?: string;
  port?: number;
}

async function startServer(onConnection: (socket: Socket) => void, at: At = {}): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const ts: TestServer = {
    port: 0,
    accepted: 0,
    sockets,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    ts.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  ts.port = await listen(server, at.port, at.host);
  return ts;
}

export async function closeAll(list: TestServer[]): Promise<void> {
  await Promise.all(list.map((s) => s.close()));
}

/** Says its name and closes: shows which server a connection reached. */
export function namedServer(name: string, at?: At): Promise<TestServer> {
  return startServer((s) => {
    s.end(`${name}\n`);
    s.resume();
  }, at);
}

/** Says its name and keeps the connection open until the client closes it. */
export function holdingServer(name: string, at?: At): Promise<TestServer> {
  return startServer((s) => {
    s.write(`${name}\n`);
    s.resume();
    s.on('end', () => s.end());
  }, at);
}

/** Echoes every byte, and half-closes after the client does. */
export function echoServer(): Promise<TestServer> {
  return startServer((s) => s.pipe(s));
}

/** Accepts and never answers. */
export function silentServer(): Promise<TestServer> {
  return startServer((s) => s.resume());
}

export interface Exchange {
  data: Buffer;
  /** The peer half-closed cleanly (FIN) rather than resetting. */
  ended: boolean;
  error?: string;
  ms: number;
}

/** Connects, sends `payload` then FIN (unless `end` is false), and collects everything until close. */
export function exchange(port: number, payload: Buffer | string = '', opts: { host?: string; localAddress?: string; path?: string; end?: boolean; timeoutMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = opts.path !== undefined ? connect({ path: opts.path, allowHalfOpen: true }) : connect({ port, host: opts.host ?? '127.0.0.1', localAddress: opts.localAddress, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = false;
    let error: string | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`exchange with port ${port} timed out after ${opts.timeoutMs ?? 10_000} ms; got ${Buffer.concat(chunks).length} bytes`));
    }, opts.timeoutMs ?? 10_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      ended = true;
      socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), ended, error, ms: Date.now() - started });
    });
    socket.on('connect', () => {
      if (payload.length > 0) socket.write(payload);
      if (opts.end ?? true) socket.end();
    });
  });
}

/** The generation named by the `hello` service's greeting at `port` (or at the Unix socket `path`). */
export async function generationAt(port: number, path?: string): Promise<number> {
  const m = /generation (\d+)/.exec(String((await exchange(port, '', { end: false, path })).data));
  if (m === null) throw new Error('no greeting');
  return Number(m[1]);
}

/** Asks the `hello` service at `port` again and again until stopped; says how many greetings came and every failure. */
export function keepAsking(port: number): { stop(): Promise<{ served: number; failures: string[] }> } {
  let asking = true;
  let served = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (asking) {
      const r = await exchange(port, '', { end: false }).catch((e: Error) => ({ data: Buffer.alloc(0), error: e.message }));
      if (/hello from ferry/.test(String(r.data))) served++;
      else failures.push(r.error ?? 'no greeting');
    }
  })();
  return {
    stop: async () => {
      asking = false;
      await loop;
      return { served, failures };
    },
  };
}

/**
 * The name a namedServer (or holdingServer) behind the proxy at `port` says: which server a new
 * connection reached. `from` is the client's address, such as 127.0.0.7 (any of 127/8 works).
 */
export async function whoAnswers(port: number, from?: string): Promise<string> {
  return String((await exchange(port, '', { localAddress: from })).data).trim();
}

/** How many of `n` connections in a row each server answered. */
export async function tally(port: number, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const name = await whoAnswers(port);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** An open client connection and what it has received so far. */
export interface OpenClient {
  socket: Socket;
  received(): string;
  /** Resolves once the received text includes `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  closed: Promise<{ ended: boolean; error?: string }>;
}

export function openClient(port: number, host = '127.0.0.1'): Promise<OpenClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let text = '';
    let ended = false;
    let error: string | undefined;
    const listeners = new Set<() => void>();
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      text += c;
      for (const l of [...listeners]) l();
    });
    socket.on('end', () => (ended = true));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    const closed = new Promise<{ ended: boolean; error?: string }>((r) => socket.on('close', () => r({ ended, error })));
    socket.once('error', reject);
    socket.on('connect', () =>
      resolve({
        socket,
        received: () => text,
        closed,
        waitFor: (wanted, timeoutMs = 10_000) =>
          new Promise<void>((ok, fail) => {
            const check = (): void => {
              if (!text.includes(wanted)) return;
              clearTimeout(timer);
              listeners.delete(check);
              ok();
            };
            const timer = setTimeout(() => {
              listeners.delete(check);
              fail(new Error(`did not receive "${wanted}" within ${timeoutMs} ms; got "${text}"`));
            }, timeoutMs);
            listeners.add(check);
            check();
          }),
      }),
    );
  });
}

/**
 * A port where connects hang: a listener with a backlog of 0 whose queue is already full, so the
 * kernel drops new SYNs. Python, because node accepts on every socket it listens on.
 */
export function blackhole(): Promise<{ port: number; close(): void }> {
  const script = [
    'import socket, sys',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0); port = s.getsockname()[1]',
    'fill = [socket.socket() for _ in range(3)]',
    'for c in fill:',
    '    c.setblocking(False)',
    '    try: c.connect(("127.0.0.1", port))',
    '    except BlockingIOError: pass',
    'print(port, flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(String(d).trim()), close: () => child.kill() }));
  });
}
