import { Agent, request, type IncomingMessage } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { test } from 'uvu';
import { WebSocket, WebSocketServer } from 'ws';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import { startFerry, type FerryProcess } from './helpers/ferry';
import { httpBackend, statusOf, waitUntil, type HttpBackend } from './helpers/http';
import { exchange, freePort, listen, openClient, silentServer, type TestServer } from './helpers/net';
import { until } from './helpers/layers';

let app: HttpBackend;
let mute: TestServer;
let ferry: FerryProcess;
const ports: Record<'web' | 'strict' | 'closing' | 'down' | 'off' | 'slow' | 'flaky' | 'ws' | 'tunnel' | 'bulk' | 'deaf' | 'fresh', number> = { web: 0, strict: 0, closing: 0, down: 0, off: 0, slow: 0, flaky: 0, ws: 0, tunnel: 0, bulk: 0, deaf: 0, fresh: 0 };
let wss: WebSocketServer;
/** Answers CONNECT with 200, then echoes: a server end of a CONNECT tunnel. */
const connectEcho = createNetServer((s) => {
  s.once('data', (head: Buffer) => {
    if (!String(head).startsWith('CONNECT ')) {
      s.destroy();
      return;
    }
    s.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    s.pipe(s);
  });
  s.on('error', () => {});
});
/** Reads a request head, then closes without a word. */
const closer = createNetServer((s) => s.once('data', () => s.destroy()));
/**
 * Answers the first request of each connection and keeps it open, then closes it when a second
 * request comes, unanswered: a server whose idle timeout strikes as a reused connection is used.
 */
let flakyConnections = 0;
const flaky = createNetServer((s) => {
  flakyConnections++;
  let requests = 0;
  s.on('data', (d: Buffer) => {
    if (!d.includes('\r\n\r\n')) return;
    if (++requests > 1) s.destroy();
    else s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst');
  });
  s.on('error', () => {});
});

/**
 * What the four loopback socket buffers between a server and a client can hold at most (each
 * direction's send buffer and receive buffer, at the kernel's tcp_wmem and tcp_rmem ceilings): how
 * far a server may get with a client that reads nothing, when the proxy between reads no further.
 */
const LOOPBACK_HOLDS = ['tcp_wmem', 'tcp_rmem'].map((f) => Number(readFileSync(`/proc/sys/net/ipv4/${f}`, 'utf8').trim().split(/\s+/)[2])).reduce((a, b) => a + b) * 2;
/** A response 32 MB longer than that, written 256 KB at a time, each once the one before is in the kernel; `taken` counts those. */
const BULK = randomBytes(LOOPBACK_HOLDS + (32 << 20));
const bulkWrites = { taken: 0 };
const bulk = createNetServer((s) => {
  s.once('data', () => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BULK.length}\r\n\r\n`);
    const next = (at: number): void => {
      bulkWrites.taken = at;
      if (at < BULK.length) s.write(BULK.subarray(at, at + 262144), () => next(at + 262144));
    };
    next(0);
  });
  s.on('error', () => {});
});

/** Accepts and reads nothing; `deafAccepted` holds its connections. */
const deafAccepted: Socket[] = [];
const deaf = createNetServer((s) => {
  s.pause();
  s.on('error', () => {});
  deafAccepted.push(s);
});

test.before(async () => {
  app = await httpBackend();
  mute = await silentServer();
  const closerPort = await listen(closer);
  const flakyPort = await listen(flaky);
  const connectPort = await listen(connectEcho);
  const bulkPort = await listen(bulk);
  const deafPort = await listen(deaf);
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo: ${String(m)}`)));
  const wsPort = (wss.address() as { port: number }).port;
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
  const nobody = await freePort();
  const frontend = (port: number, backend: string, extra: object = {}): object => ({ bind: [`127.0.0.1:${port}`], mode: 'http', backend, ...extra });
  ferry = await startFerry({
    global: { groups: 1, threads: 1 },
    frontends: {
      web: frontend(ports.web, 'app', { http: { forwarded: true } }),
      strict: frontend(ports.strict, 'app', { timeout: { httpRequest: '300ms', httpKeepAlive: '300ms' }, http: { maxRequestLine: 512, maxHeaderSize: 1024 } }),
      closing: frontend(ports.closing, 'closer'),
      down: frontend(ports.down, 'down'),
      off: frontend(ports.off, 'off'),
      slow: frontend(ports.slow, 'mute'),
      flaky: frontend(ports.flaky, 'flaky'),
      ws: frontend(ports.ws, 'ws'),
      tunnel: frontend(ports.tunnel, 'tunnel'),
      bulk: frontend(ports.bulk, 'bulk'),
      deaf: frontend(ports.deaf, 'deaf'),
      fresh: frontend(ports.fresh, 'fresh'),
    },
    backends: {
      app: { servers: { a1: { address: `127.0.0.1:${app.port}` } } },
      closer: { retries: 0, servers: { c1: { address: `127.0.0.1:${closerPort}` } } },
      down: { retries: 0, servers: { d1: { address: `127.0.0.1:${nobody}` } } },
      off: { timeout: { queue: '20s' }, servers: { o1: { address: `127.0.0.1:${app.port}`, weight: 0 } } },
      mute: { timeout: { server: '300ms' }, servers: { m1: { address: `127.0.0.1:${mute.port}` } } },
      flaky: { servers: { f1: { address: `127.0.0.1:${flakyPort}` } } },
      ws: { servers: { w1: { address: `127.0.0.1:${wsPort}` } } },
      tunnel: { servers: { t1: { address: `127.0.0.1:${connectPort}` } } },
      bulk: { servers: { b1: { address: `127.0.0.1:${bulkPort}` } } },
      deaf: { servers: { d1: { address: `127.0.0.1:${deafPort}` } } },
      // No idle connections kept: every request waits for a connection of its own.
      fresh: { servers: { a1: { address: `127.0.0.1:${app.port}`, pool: { maxIdle: 0 } } } },
    },
  });
});

test.after(async () => {
  await ferry?.stop();
  await app?.close();
  await mute?.close();
  closer.close();
  flaky.close();
  connectEcho.close();
  bulk.close();
  deaf.close();
  wss?.close();
});

interface Reply {
  res: IncomingMessage;
  body: string;
  reused: boolean;
}

function get(port: number, path: string, opts: { agent?: Agent; method?: string; headers?: Record<string, string>; body?: string[]; trailers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: opts.agent, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks).toString(), reused: req.reusedSocket }));
    });
    req.on('error', reject);
    for (const part of opts.body ?? []) req.write(part);
    if (opts.trailers !== undefined) req.addTrailers(opts.trailers);
    req.end();
  });
}

test('proxies a request: X-Forwarded-For, X-Forwarded-Proto and Forwarded added, hop-by-hop fields stripped', async () => {
  const { res, body } = await get(ports.web, '/hello?x=1', {
    headers: { Connection: 'keep-alive, X-Private', 'X-Private': 'secret', 'Keep-Alive': 'timeout=5', 'Proxy-Connection': 'keep-alive', TE: 'trailers', 'X-Forwarded-For': '10.0.0.1', 'X-Kept': 'yes' },
  });
  assert.is(res.statusCode, 200);
  const seen = JSON.parse(body);
  assert.is(seen.url, '/hello?x=1');
  assert.is(seen.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1', 'the client address is appended');
  assert.is(seen.headers['x-forwarded-proto'], 'http');
  assert.is(seen.headers.forwarded, 'for=127.0.0.1;proto=http');
  assert.is(seen.headers['x-kept'], 'yes');
  for (const gone of ['x-private', 'keep-alive', 'proxy-connection', 'te']) assert.is(seen.headers[gone], undefined, `${gone} is stripped`);
});

test('keep-alive on both sides: server connections are reused across client connections', async () => {
  const before = app.connections;
  const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];
  const replies: Reply[] = [];
  for (let round = 0; round < 10; round++) replies.push(...(await Promise.all(agents.map((agent) => get(ports.web, `/ka/${round}`, { agent })))));
  for (const a of agents) a.destroy();
  assert.ok(replies.every((r) => r.res.statusCode === 200));
  assert.ok(replies.filter((r) => r.reused).length >= 18, 'the clients kept their connections');
  const opened = app.connections - before;
  assert.ok(opened <= 2, `20 requests over 2 client connections took ${opened} server connections`);
  // A new client connection, after the others closed, still finds a pooled server connection.
  await get(ports.web, '/after');
  assert.is(app.connections - before, opened, 'a later client connection reuses a pooled server connection');
});

test('the pool keeps every server connection that 100 requests in flight at once used: a second such wave opens none', async () => {
  const agents = Array.from({ length: 100 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  /** 100 requests held by the server until all have arrived: 100 server connections busy at once. */
  const wave = async (name: string): Promise<number> => {
    const replies = agents.map((agent, n) => get(ports.web, `/hold/${name}c${n}`, { agent }));
    await waitUntil(() => app.seen.filter((r) => r.url.startsWith(`/hold/${name}c`)).length === agents.length, 10_000, `${agents.length} requests at the server`);
    agents.forEach((_, n) => app.release(`${name}c${n}`));
    const done = await Promise.all(replies);
    assert.is(done.length, agents.length);
    assert.ok(done.every((r) => r.res.statusCode === 200));
    return app.connections;
  };
  try {
    const first = await wave('wa');
    assert.is(await wave('wb'), first, 'the second wave reused the server connections of the first');
  } finally {
    for (const a of agents) a.destroy();
  }
});

test('pipelined requests are answered in order, the slow first one included', async () => {
  const pipelined = 'GET /delay/150 HTTP/1.1\r\nHost: a\r\n\r\nPOST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbodyGET /third HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
  const { data } = await exchange(ports.web, pipelined, { end: false });
  const text = String(data);
  const urls = [...text.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
  assert.equal(urls, ['/delay/150', '/second', '/third']);
  assert.ok(text.includes('"body":"body"'));
  assert.is((text.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 3);
});

test('chunked bodies both ways, trailers kept', async () => {
  const { res, body } = await get(ports.web, '/chunked', { method: 'POST', headers: { 'Transfer-Encoding': 'chunked', Trailer: 'X-Check' }, body: ['abc', 'defg'], trailers: { 'X-Check': 'ok' } });
  const seen = app.seen.at(-1)!;
  assert.is(seen.body, 'abcdefg');
  assert.equal(seen.trailers, { 'x-check': 'ok' });
  assert.is(res.headers['transfer-encoding'], 'chunked');
  assert.is(body, 'part1-part2');
  assert.equal(res.trailers, { 'x-sum': '11' });
});

test('large bodies both ways, with back-pressure, chunked and by length', async () => {
  const big = 'x'.repeat(3 * 1024 * 1024);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const byLength = await get(ports.web, '/big', { agent, method: 'POST', headers: { 'Content-Length': String(big.length) }, body: [big] });
  assert.is(JSON.parse(byLength.body).body.length, big.length);
  const chunked = await get(ports.web, '/big-chunked', { agent, method: 'POST', body: [big.slice(0, 1_000_000), big.slice(1_000_000)] });
  assert.is(JSON.parse(chunked.body).body.length, big.length);
  assert.ok(chunked.reused, 'the connection stayed open');
  agent.destroy();
});

test('a client that reads nothing: ferry stops reading the server, which stalls at what the loopback buffers hold; every byte arrives once the client reads', async () => {
  const client = connect({ port: ports.bulk, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  client.pause();
  client.write('GET /bulk HTTP/1.1\r\nHost: a\r\n\r\n');
  try {
    await until(() => bulkWrites.taken >= 1 << 20, 'the response to start', 10_000);
    // A proxy that kept reading the server would take all of it meanwhile: ferry holds 16 MB at most.
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 5));
      assert.ok(bulkWrites.taken < LOOPBACK_HOLDS + (16 << 20), `the server got ${bulkWrites.taken} bytes into the kernel while the client read nothing (the loopback buffers hold ${LOOPBACK_HOLDS})`);
    }
    client.resume();
    const head = Buffer.from(`HTTP/1.1 200 OK\r\n`);
    await until(() => chunks.reduce((n, c) => n + c.length, 0) >= BULK.length + head.length, 'the whole response', 30_000);
    const all = Buffer.concat(chunks);
    const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
    assert.ok(all.subarray(0, head.length).equals(head), all.subarray(0, 40).toString());
    assert.is(body.length, BULK.length);
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    assert.is(sha(body), sha(BULK));
  } finally {
    client.destroy();
  }
});

test('a body sent with its head, longer than a head may be, reaches a server that is still being connected to', async () => {
  const body = Buffer.alloc(8 << 20, 'b');
  // One write: ferry reads past the head before the server connection is up, and holds it meanwhile.
  const { data } = await exchange(ports.fresh, Buffer.concat([Buffer.from(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
  const reply = data.toString();
  assert.is(statusOf(reply), 200, reply.slice(0, 200));
  assert.is(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).body.length, body.length);
});

test('a server that reads nothing: ferry stops reading the request body, and the client stalls at what the loopback buffers hold', async () => {
  const client = connect({ port: ports.deaf, host: '127.0.0.1' });
  client.on('error', () => {});
  let taken = 0;
  const next = (at: number): void => {
    taken = at;
    if (at < BULK.length && !client.destroyed) client.write(BULK.subarray(at, at + 262144), () => next(at + 262144));
  };
  client.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${BULK.length}\r\n\r\n`);
  next(0);
  try {
    await until(() => taken >= 1 << 20, 'the body to start', 10_000);
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 5));
      assert.ok(taken < LOOPBACK_HOLDS + (16 << 20), `the client got ${taken} bytes into the kernel while the server read nothing (the loopback buffers hold ${LOOPBACK_HOLDS})`);
    }
  } finally {
    // The server's reset ends the exchange at once; ferry, which reads the client no more, would
    // learn of the client's close only at its timeout.
    for (const s of deafAccepted) s.destroy();
    client.destroy();
  }
});

test('an HTTP/1.0 client gets a chunked response decoded, and the connection closed', async () => {
  const { data, ended } = await exchange(ports.web, 'GET /chunked HTTP/1.0\r\n\r\n', { end: false });
  const text = String(data);
  assert.is(statusOf(text), 200);
  assert.ok(text.endsWith('\r\n\r\npart1-part2'), text);
  assert.not.ok(/transfer-encoding/i.test(text));
  assert.ok(ended);
});

const SMUGGLING = [
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\nabcd',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: four\r\n\r\nabcd',
  'GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nX Y: b\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n',
];

test('every smuggling case gets a 400, a log line, a closed connection, and nothing reaches the server', async () => {
  // A malformed chunk (the last case) is found only once the head went to the server, which then
  // sees its connection closed before the request is whole: it never gets a request either.
  const seen = app.seen.length;
  for (const raw of SMUGGLING) {
    const { data, ended } = await exchange(ports.web, raw, { end: false });
    assert.is(statusOf(data), 400, JSON.stringify(raw));
    assert.ok(/Connection: close/.test(String(data)));
    assert.ok(ended, 'the proxy closes the connection');
  }
  assert.is(app.seen.length, seen, 'no request reached the server');
  await ferry.waitLog((l) => l.msg === 'request refused' && l.reason === 'both Content-Length and Transfer-Encoding' && l.termination === 'PR' && l.status === 400);
});

test('414 for a request line past maxRequestLine, 431 for a head past maxHeaderSize', async () => {
  const long = await exchange(ports.strict, `GET /${'a'.repeat(600)} HTTP/1.1\r\nHost: a\r\n\r\n`, { end: false });
  assert.is(statusOf(long.data), 414);
  const big = await exchange(ports.strict, `GET / HTTP/1.1\r\nHost: a\r\n${'X-Filler: 0123456789012345678901234567890123456789\r\n'.repeat(30)}\r\n`, { end: false });
  assert.is(statusOf(big.data), 431);
  assert.is((await get(ports.strict, `/${'a'.repeat(300)}`)).res.statusCode, 200, 'within the limits, it goes through');
});

test('slowloris: a head trickling in gets 408 after timeout.httpRequest, however active', async () => {
  const c = await openClient(ports.strict);
  const started = Date.now();
  c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
  const trickle = setInterval(() => c.socket.writable && c.socket.write('X: y\r\n'), 50);
  await c.waitFor('408 Request Timeout', 3000);
  clearInterval(trickle);
  assert.ok(Date.now() - started < 1500, `408 after ${Date.now() - started} ms`);
  await c.closed;
});

test('timeout.httpKeepAlive closes an idle client connection after its response', async () => {
  const c = await openClient(ports.strict);
  c.socket.write('GET /idle HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.waitFor('"url":"/idle"');
  const { ended } = await c.closed;
  assert.ok(ended, 'closed cleanly');
  assert.is(statusOf(c.received()), 200);
  assert.not.ok(c.received().includes('408'), 'nothing to answer on an idle connection');
});

test('502 when the server closes without a response, 503 when no server can be reached or none is usable, 504 on timeout.server', async () => {
  const bad = await exchange(ports.closing, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { end: false });
  assert.is(statusOf(bad.data), 502);
  const down = await exchange(ports.down, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { end: false });
  assert.is(statusOf(down.data), 503);
  const started = Date.now();
  const slow = await exchange(ports.slow, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { end: false });
  assert.is(statusOf(slow.data), 504);
  assert.ok(Date.now() - started < 2000);
  const before = app.seen.length;
  const off = await exchange(ports.off, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', { end: false, timeoutMs: 2000 });
  assert.is(statusOf(off.data), 503, 'no usable server: 503 at once, not after timeout.queue');
  assert.is(app.seen.length, before);
  for (const [status, termination] of [[502, 'SH'], [503, 'SC'], [503, 'PC'], [504, 'sH']] as const) {
    await ferry.waitLog((l) => l.msg === 'request' && l.status === status && l.termination === termination);
  }
});

test('Expect: 100-continue: the interim response reaches the client, which then sends its body', async () => {
  const reply = await new Promise<{ continued: boolean; body: string }>((resolve, reject) => {
    let continued = false;
    const req = request({ host: '127.0.0.1', port: ports.web, path: '/expect', method: 'POST', headers: { Expect: '100-continue', 'Content-Length': '4' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ continued, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.on('continue', () => {
      continued = true;
      req.end('data');
    });
  });
  assert.ok(reply.continued, 'the client got 100 Continue');
  assert.is(JSON.parse(reply.body).body, 'data');
});

test('a reused server connection closed before responding: a safe request goes again on a fresh one, an unsafe one gets 502', async () => {
  const first = await get(ports.flaky, '/one');
  assert.is(first.body, 'first');
  const before = flakyConnections;
  const second = await get(ports.flaky, '/two');
  assert.is(second.res.statusCode, 200, 'the GET went again');
  assert.is(second.body, 'first');
  assert.is(flakyConnections, before + 1, 'on one fresh connection');
  const retried = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/two');
  assert.is(retried.retries, 1);
  const post = await get(ports.flaky, '/three', { method: 'POST', headers: { 'Content-Length': '0' } });
  assert.is(post.res.statusCode, 502, 'a POST the server may have acted on is not sent again');
  const failed = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/three');
  assert.is(failed.termination, 'SH');
});

test('WebSocket: the Upgrade goes to the server, the 101 back, then messages both ways through the tunnel', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${ports.ws}/chat`);
  const replies: string[] = [];
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const got = new Promise<void>((resolve) => ws.on('message', (m) => replies.push(String(m)) === 2 && resolve()));
  ws.send('one');
  ws.send('two');
  await got;
  assert.equal(replies, ['echo: one', 'echo: two']);
  assert.is(await wsSessions(), 1, 'the tunnel is one session of its frontend while it lasts');
  ws.close();
  await new Promise((resolve) => ws.once('close', resolve));
  await ferry.waitLog((l) => l.msg === 'request' && l.path === '/chat' && l.status === 101 && l.termination === '--');
  await ferry.waitLog((l) => l.msg === 'session' && l.frontend === 'ws' && l.server === 'w1' && l.termination === '--');
  assert.is(await wsSessions(), 0, 'and none once it ended');
});

/** The sessions of the `ws` frontend now, as show stat counts them. */
async function wsSessions(): Promise<number> {
  const reply = await sendCommand(ferry.control, 'show stat');
  const frontends = (reply.data as { frontends: { name: string; current: number }[] }).frontends;
  return frontends.find((f) => f.name === 'ws')!.current;
}

test('CONNECT: a 2xx from the server turns the connection into a tunnel', async () => {
  const c = await openClient(ports.tunnel);
  c.socket.write('CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
  await c.waitFor('\r\n\r\n');
  assert.is(statusOf(c.received()), 200);
  c.socket.write('raw bytes, not HTTP');
  await c.waitFor('raw bytes, not HTTP');
  c.socket.end();
  await c.closed;
});

test('one access-log line per request with timings, and requests in show stat', async () => {
  await get(ports.web, '/logged?q=1', { method: 'PUT', body: ['12345'] });
  const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/logged?q=1');
  assert.is(line.method, 'PUT');
  assert.is(line.status, 200);
  assert.is(line.server, 'a1');
  assert.is(line.termination, '--');
  assert.is(line.generation, 1);
  assert.ok((line.bytesIn as number) > 5 && (line.bytesOut as number) > 0);
  for (const t of ['requestMs', 'queueMs', 'connectMs', 'responseMs', 'totalMs']) assert.type(line[t], 'number', t);
  const stat = await sendCommand(ferry.control, 'show stat');
  const web = (stat.data as { frontends: { name: string; requests?: number }[] }).frontends.find((f) => f.name === 'web')!;
  assert.ok(web.requests! >= 20, `web counted ${web.requests} requests`);
  assert.ok(stat.lines.some((l) => /^backend\s+app\s+\d+/.test(l)), stat.lines.join('\n'));
});

test.run();
