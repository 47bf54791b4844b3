// Every connection ends: after ferry has answered and sent its FIN, a client (or server) that stays
// silent or trickles is let go within its bound, and its socket is gone from the worker. Each test
// stops a peer in one state of the README's table (Timeouts) and measures when ferry cuts it.
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import { TestCa } from './helpers/certs';
import { startFerry, type FerryProcess, type LogLine } from './helpers/ferry';
import { httpBackend, statusOf, waitUntil, type HttpBackend } from './helpers/http';
import { freePort, listen, namedServer, silentServer, type TestServer } from './helpers/net';
import { heldConnections, holdsConnection } from './helpers/proc';

/** What a measured bound may overrun by on a busy shared machine. */
const MARGIN = 1500;

let ferry: FerryProcess;
let worker: number;
let app: HttpBackend;
let named: TestServer;
let mute: TestServer;
let ca: TestCa;
const bigSockets = new Set<Socket>();
/** Once the client has half-closed, sends 16 MiB, then closes: more than the kernel's buffers hold for a client that does not read. */
const big = createServer({ allowHalfOpen: true }, (s) => {
  bigSockets.add(s);
  s.on('close', () => bigSockets.delete(s));
  s.on('error', () => {});
  s.resume();
  s.on('end', () => {
    const chunk = Buffer.alloc(1 << 20, 'b');
    let sent = 0;
    const pump = (): void => {
      while (sent < 16) {
        sent++;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
});
const ports = { h1: 0, tls: 0, greedy: 0, slow: 0, queued: 0, hello: 0, closer: 0, big: 0, mute: 0, loris: 0 };

test.before(async () => {
  app = await httpBackend();
  named = await namedServer('s1');
  mute = await silentServer();
  const bigPort = await listen(big);
  ca = new TestCa('closing-ca');
  const site = ca.issue('site', ['localhost']);
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
  const at = (port: number): string[] => [`127.0.0.1:${port}`];
  const server = (port: number): object => ({ s1: { address: `127.0.0.1:${port}` } });
  ferry = await startFerry({
    global: { groups: 1, threads: 1 },
    frontends: {
      h1: { bind: at(ports.h1), mode: 'http', backend: 'app', timeout: { httpRequest: '1s', httpKeepAlive: '500ms', client: '2s', clientFin: '500ms' } },
      tls: { bind: [{ address: `127.0.0.1:${ports.tls}`, tls: { certs: site.cert } }], mode: 'http', backend: 'app', timeout: { httpKeepAlive: '500ms', clientFin: '500ms' } },
      greedy: { bind: at(ports.greedy), mode: 'http', backend: 'app', timeout: { clientFin: '20s' } },
      slow: { bind: at(ports.slow), mode: 'http', backend: 'app', timeout: { httpRequest: '500ms', client: '500ms' } },
      queued: { bind: at(ports.queued), mode: 'http', backend: 'one', timeout: { httpRequest: '500ms', client: '500ms' } },
      hello: { bind: at(ports.hello), backend: 'hello', timeout: { clientFin: '500ms' } },
      closer: { bind: at(ports.closer), backend: 'named', timeout: { clientFin: '500ms' } },
      big: { bind: at(ports.big), backend: 'big', timeout: { client: '1s' } },
      mute: { bind: at(ports.mute), backend: 'mute', timeout: { client: '30s' } },
      loris: { bind: at(ports.loris), mode: 'http', backend: 'app', timeout: { httpRequest: '2s', clientFin: '1s' } },
    },
    backends: {
      app: { servers: server(app.port) },
      one: { timeout: { queue: '10s' }, servers: { s1: { address: `127.0.0.1:${app.port}`, maxconn: 1 } } },
      hello: { service: 'hello' },
      named: { servers: server(named.port) },
      big: { timeout: { tunnel: '1h' }, servers: server(bigPort) },
      mute: { timeout: { server: '30s', serverFin: '500ms', tunnel: '1h' }, servers: server(mute.port) },
    },
  });
  [worker] = ferry.workerPids;
});

test.after(async () => {
  await ferry?.stop();
  await app?.close();
  await named?.close();
  await mute?.close();
  for (const s of bigSockets) s.destroy();
  big.close();
});

/** A client that keeps its side open after ferry's FIN (as a careless or hostile one does), and what it saw. */
interface Client {
  socket: Socket;
  /** Its local port: the remote port of ferry's side. */
  port: number;
  /** "127.0.0.1:port", as ferry's log lines name it. */
  name: string;
  openedAt: number;
  text(): string;
  waitFor(text: string, timeoutMs?: number): Promise<number>;
  /** When ferry's FIN came. */
  fin: Promise<number>;
  closed: Promise<void>;
}

function client(port: number, opts: { read?: boolean; tls?: boolean } = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const tcp = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const socket = opts.tls === true ? tlsConnect({ socket: tcp, servername: 'localhost', ca: ca.pem }) : tcp;
    let text = '';
    const waiters = new Set<() => void>();
    if (opts.read === false) socket.pause();
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      for (const w of [...waiters]) w();
    });
    socket.on('error', () => {});
    const fin = new Promise<number>((r) => socket.once('end', () => r(Date.now())));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    socket.once(opts.tls === true ? 'secureConnect' : 'connect', () => {
      const local = socket.localPort!;
      resolve({
        socket,
        port: local,
        name: `127.0.0.1:${local}`,
        openedAt: Date.now(),
        text: () => text,
        fin,
        closed,
        waitFor: (wanted, timeoutMs = 10_000) =>
          new Promise<number>((ok, fail) => {
            const check = (): void => {
              if (!text.includes(wanted)) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok(Date.now());
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`did not receive "${wanted}" within ${timeoutMs} ms; got "${text.slice(0, 200)}"`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
      });
    });
  });
}

/** The line ferry logs for `c` with message `msg`, and when it came. */
async function lineFor(c: Client, msg: string, timeoutMs = 10_000): Promise<{ line: LogLine; at: number }> {
  const line = await ferry.waitLog((l) => l.msg === msg && l.client === c.name, timeoutMs);
  return { line, at: Date.now() };
}

/** The worker no longer holds ferry's side of `c` (checked at once, and for a moment after the line that says so). */
async function letGo(port: number, c: Client): Promise<void> {
  await waitUntil(() => !holdsConnection(worker, port, c.port), 1000, `the worker to let go of ${c.name}`);
}

function within(ms: number, low: number, high: number, what: string): void {
  assert.ok(ms >= low && ms <= high, `${what}: ${ms} ms, expected ${low} to ${high}`);
}

test('HTTP: a client silent from its accept is closed at timeout.httpRequest, and let go timeout.clientFin after ferry\'s FIN', async () => {
  const c = await client(ports.h1);
  await waitUntil(() => holdsConnection(worker, ports.h1, c.port), 1000, 'the worker to hold the connection while it waits');
  const fin = await c.fin;
  within(fin - c.openedAt, 900, 1000 + MARGIN, 'FIN after timeout.httpRequest');
  const { line, at } = await lineFor(c, 'connection cut');
  assert.is(line.termination, 'cL');
  within(at - fin, 400, 500 + MARGIN, 'cut after timeout.clientFin');
  await letGo(ports.h1, c);
  assert.is(c.text(), '', 'nothing to answer');
  c.socket.destroy();
});

test('HTTP: a head trickling in gets 408 at timeout.httpRequest, not at its next byte; trickling on after it does not stretch timeout.clientFin', async () => {
  const c = await client(ports.h1);
  c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
  // A byte every 900 ms keeps the socket active; its next byte after the 1 s deadline would come at 1.8 s.
  let trickle = setInterval(() => c.socket.write('X'), 900);
  const answered = await c.waitFor('408 Request Timeout');
  clearInterval(trickle);
  within(answered - c.openedAt, 900, 1600, '408 after timeout.httpRequest');
  trickle = setInterval(() => c.socket.writable && c.socket.write('Y'), 50);
  const fin = await c.fin;
  const { line, at } = await lineFor(c, 'connection cut');
  clearInterval(trickle);
  assert.is(line.termination, 'cL');
  assert.ok((line.dropped as number) > 0, 'what it trickled on was read and dropped');
  within(at - fin, 400, 500 + MARGIN, 'cut after timeout.clientFin, trickle or not');
  await letGo(ports.h1, c);
  assert.ok((await ferry.waitLog((l) => l.msg === 'request refused' && l.status === 408)).termination === 'cR');
  c.socket.destroy();
});

test('HTTP: idle keep-alive closed at timeout.httpKeepAlive, and an answer with Connection: close, are let go timeout.clientFin after ferry\'s FIN', async () => {
  const idle = await client(ports.h1);
  idle.socket.write('GET /idle HTTP/1.1\r\nHost: a\r\n\r\n');
  const answered = await idle.waitFor('"url":"/idle"');
  const closing = await client(ports.h1);
  closing.socket.write('GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  await closing.waitFor('"url":"/last"');
  const closingFin = await closing.fin;
  const cutLast = await lineFor(closing, 'connection cut');
  assert.is(cutLast.line.termination, 'cL');
  within(cutLast.at - closingFin, 400, 500 + MARGIN, 'cut after timeout.clientFin');
  await letGo(ports.h1, closing);
  const idleFin = await idle.fin;
  within(idleFin - answered, 400, 500 + MARGIN, 'FIN after timeout.httpKeepAlive');
  const cutIdle = await lineFor(idle, 'connection cut');
  assert.is(cutIdle.line.termination, 'cL');
  within(cutIdle.at - idleFin, 400, 500 + MARGIN, 'cut after timeout.clientFin');
  await letGo(ports.h1, idle);
  for (const c of [idle, closing]) c.socket.destroy();
});

test('HTTPS: an idle keep-alive client that never closes after ferry\'s close_notify and FIN is let go at timeout.clientFin', async () => {
  const c = await client(ports.tls, { tls: true });
  c.socket.write('GET /secure HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await c.waitFor('"url":"/secure"');
  const fin = await c.fin;
  const { line, at } = await lineFor(c, 'connection cut');
  assert.is(line.termination, 'cL');
  within(at - fin, 400, 500 + MARGIN, 'cut after timeout.clientFin');
  await letGo(ports.tls, c);
  c.socket.destroy();
});

test('HTTP: a client that keeps sending after its answer is cut past 256 KiB, long before timeout.clientFin (PL)', async () => {
  const c = await client(ports.greedy);
  c.socket.write('GET / HTTP/1.1\r\n\r\n');
  await c.waitFor('400 Bad Request');
  const junk = Buffer.alloc(64 * 1024, 'j');
  for (let i = 0; i < 16; i++) c.socket.write(junk);
  const { line, at } = await lineFor(c, 'connection cut', 5000);
  assert.is(line.termination, 'PL');
  assert.ok((line.dropped as number) > 256 * 1024, `dropped ${String(line.dropped)}`);
  assert.ok(at - c.openedAt < 5000, 'long before timeout.clientFin (20 s)');
  await letGo(ports.greedy, c);
  c.socket.destroy();
});

test('HTTP: a client that sent its whole request may stay silent while it waits for a slow server or in the queue: no 408', async () => {
  // timeout.httpRequest and timeout.client are 500 ms on both frontends; the waits last about 1.5 s.
  const slow = await client(ports.slow);
  slow.socket.write('GET /delay/1500 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const holder = await client(ports.queued);
  holder.socket.write('GET /delay/1500?first HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  await waitUntil(() => app.seen.some((r) => r.url === '/delay/1500?first'), 5000, 'the first request to hold the only slot');
  const queued = await client(ports.queued);
  queued.socket.write('GET /queued HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  for (const c of [slow, holder, queued]) await c.fin;
  assert.equal([slow, holder, queued].map((c) => statusOf(c.text())), [200, 200, 200]);
  const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/queued');
  assert.ok((line.queueMs as number) >= 500, `waited ${String(line.queueMs)} ms in the queue`);
  for (const c of [slow, holder, queued]) c.socket.destroy();
});

test('HTTP/2: a connection closed after GOAWAY (timeout.httpKeepAlive) is let go timeout.clientFin after ferry\'s FIN', async () => {
  const c = await client(ports.h1);
  // h2c with prior knowledge: the preface, then an empty SETTINGS frame; then nothing, ever.
  c.socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
  const fin = await c.fin;
  within(fin - c.openedAt, 400, 500 + MARGIN, 'GOAWAY and FIN after timeout.httpKeepAlive');
  const { line, at } = await lineFor(c, 'connection cut');
  assert.is(line.termination, 'cL');
  assert.is(line.protocol, 'h2');
  within(at - fin, 400, 500 + MARGIN, 'cut after timeout.clientFin');
  await letGo(ports.h1, c);
  c.socket.destroy();
});

test('TCP: after a built-in service\'s last word or a server\'s FIN, a client that never closes is let go at timeout.clientFin (cL)', async () => {
  for (const port of [ports.hello, ports.closer]) {
    const c = await client(port);
    const fin = await c.fin;
    const { line, at } = await lineFor(c, 'session');
    assert.is(line.termination, 'cL', `port ${port}`);
    within(at - fin, 400, 500 + MARGIN, 'cut after timeout.clientFin');
    await letGo(port, c);
    assert.ok(c.text().length > 0, 'it had its answer');
    c.socket.destroy();
  }
});

test('TCP: a client that half-closes and never reads is cut at timeout.client, though the backend has timeout.tunnel 1h (cD)', async () => {
  const c = await client(ports.big, { read: false });
  c.socket.end('go');
  const sent = Date.now();
  const { line, at } = await lineFor(c, 'session');
  assert.is(line.termination, 'cD');
  within(at - sent, 900, 1000 + 2 * MARGIN, 'cut once it took no byte for timeout.client');
  assert.ok((line.bytesOut as number) < 16 << 20, 'it could not have taken it all');
  await letGo(ports.big, c);
  c.socket.destroy();
});

test('TCP: a server that never closes after ferry passed the client\'s FIN on is let go at timeout.serverFin, though the backend has timeout.tunnel 1h (sL)', async () => {
  const before = new Set(mute.sockets);
  const c = await client(ports.mute);
  await waitUntil(() => mute.sockets.size > before.size, 5000, 'the server connection');
  const ferrySide = [...mute.sockets].find((s) => !before.has(s))!.remotePort!;
  c.socket.end('bye');
  const sent = Date.now();
  const { line, at } = await lineFor(c, 'session');
  assert.is(line.termination, 'sL');
  within(at - sent, 400, 500 + MARGIN, 'cut after timeout.serverFin');
  await waitUntil(() => !holdsConnection(worker, ferrySide, mute.port), 1000, 'the worker to let go of the server connection');
  await c.closed;
  await letGo(ports.mute, c);
});

test('slowloris: 300 connections trickling partial heads; normal requests are served throughout, and each slow one is let go within timeout.httpRequest + timeout.clientFin + 1 s', async () => {
  const n = 300;
  const crowd: Client[] = [];
  for (let i = 0; i < n; i++) {
    const c = await client(ports.loris);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ');
    crowd.push(c);
  }
  const lastOpened = crowd[n - 1].openedAt;
  // A byte every 500 ms each, before the 408 and after it, until ferry lets go.
  const trickle = setInterval(() => {
    for (const c of crowd) if (c.socket.writable) c.socket.write('z');
  }, 500);
  const served: number[] = [];
  let asking = true;
  const normal = (async () => {
    while (asking) {
      const c = await client(ports.loris);
      c.socket.write('GET /normal HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      await c.fin;
      served.push(statusOf(c.text()));
      c.socket.destroy();
      // One every 50 ms or so: a client among others, not a flood.
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    // When the worker let go of each one, seen every 50 ms in /proc.
    const releasedAt = new Map<Client, number>();
    assert.ok(heldConnections(worker, ports.loris).size > 0, 'the worker holds the crowd at first');
    while (releasedAt.size < n && Date.now() - lastOpened < 2000 + 1000 + 1000 + MARGIN) {
      const held = heldConnections(worker, ports.loris);
      const now = Date.now();
      for (const c of crowd) if (!releasedAt.has(c) && !held.has(c.port)) releasedAt.set(c, now);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.is(releasedAt.size, n, 'every slow connection let go');
    const longest = Math.max(...crowd.map((c) => releasedAt.get(c)! - c.openedAt));
    assert.ok(longest <= 2000 + 1000 + 1000, `each let go within timeout.httpRequest + timeout.clientFin + 1 s of its start: the longest took ${longest} ms`);
  } finally {
    clearInterval(trickle);
    asking = false;
    await normal;
  }
  assert.ok(served.length >= 5, `${served.length} normal requests during the slowloris`);
  assert.ok(served.every((s) => s === 200), `statuses: ${served.join(' ')}`);
  for (const c of crowd) assert.ok(c.text().startsWith('HTTP/1.1 408 '), 'each slow one got its 408');
  const stat = await sendCommand(ferry.control, 'show stat');
  const loris = (stat.data as { frontends: { name: string; closing?: number; terminations?: Record<string, number> }[] }).frontends.find((f) => f.name === 'loris')!;
  assert.ok((loris.terminations?.cR ?? 0) >= n, `cR counted: ${JSON.stringify(loris.terminations)}`);
  assert.ok((loris.terminations?.cL ?? 0) >= n, `cL counted: ${JSON.stringify(loris.terminations)}`);
  assert.is(loris.closing, undefined, 'none closing any more');
  assert.match(stat.lines.join('\n'), /ends frontend/);
  for (const c of crowd) c.socket.destroy();
});

test.run();
