import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config/validate';
import { h2Preface } from '../src/http/h2-preface';
import { h2Request } from '../src/http/h2-request';
import type { HttpRefusal } from '../src/http/refusal';
import { TestCa } from './helpers/certs';
import { reloadWith, startFerry, writeConfig, type FerryProcess } from './helpers/ferry';
import { waitUntil } from './helpers/http';
import { freePort, listen } from './helpers/net';

const ca = new TestCa('h2-ca');
const pemFile = join(ca.dir, 'h2.pem');
writeFileSync(pemFile, ca.issue('h2', ['h2.test']).pem);

/** What a test backend answers with: who it is and what it got. */
interface Echo {
  server: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  length: number;
  sha: string;
  trailers: Record<string, string>;
}

interface App {
  name: string;
  port: number;
  seen: Echo[];
  close(): Promise<void>;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A node:http HTTP/1.1 server answering each request with an Echo; `/reset` closes the connection
 * without an answer, `/delay/N` answers after N ms, `/status/N` with status N, `/big/N` answers N
 * bytes, `/trailers` answers chunked with a trailer.
 */
async function app(name: string): Promise<App> {
  const sockets = new Set<Socket>();
  const a: App = { name, port: 0, seen: [], close: () => new Promise((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))) };
  const server: Server = createServer((req, res) => {
    if (req.url === '/reset') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const echo: Echo = { server: name, method: req.method!, url: req.url!, headers: req.headers as Record<string, string>, length: body.length, sha: sha(body), trailers: req.trailers as Record<string, string> };
      a.seen.push(echo);
      const big = /^\/big\/(\d+)$/.exec(req.url!);
      if (big !== null) {
        res.end(Buffer.alloc(Number(big[1]), 'x'));
        return;
      }
      if (req.url === '/trailers') {
        res.setHeader('Trailer', 'X-Sum');
        res.write('part1-');
        res.addTrailers({ 'X-Sum': '11' });
        res.end('part2');
        return;
      }
      const delay = /^\/delay\/(\d+)$/.exec(req.url!);
      const status = /^\/status\/(\d+)$/.exec(req.url!);
      setTimeout(() => {
        res.statusCode = status === null ? 200 : Number(status[1]);
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('X-Mixed-Case', 'yes');
        res.end(JSON.stringify(echo));
      }, delay === null ? 0 : Number(delay[1]));
    });
  });
  server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  a.port = await listen(server as unknown as import('node:net').Server);
  return a;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders;
}

/** One request on `session`; `body` sent with a Content-Length unless `chunked`, `trailers` after it. */
function ask(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer, opts: { chunked?: boolean; trailers?: OutgoingHttpHeaders } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const withLength = body !== undefined && opts.chunked !== true ? { 'content-length': body.length } : {};
    const stream = session.request({ ':path': '/', ...withLength, ...headers }, { endStream: body === undefined, waitForTrailers: opts.trailers !== undefined });
    if (opts.trailers !== undefined) stream.on('wantTrailers', () => stream.sendTrailers(opts.trailers!));
    let status = 0;
    let got: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => ((got = h), (status = Number(h[':status']))));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, headers: got, body: Buffer.concat(chunks), trailers }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

const echoOf = (r: Reply): Echo => JSON.parse(r.body.toString()) as Echo;

function tlsSession(port: number): ClientHttp2Session {
  return connect(`https://127.0.0.1:${port}`, { ca: ca.pem, servername: 'h2.test' });
}

function h2cSession(port: number): ClientHttp2Session {
  return connect(`http://127.0.0.1:${port}`);
}

function closed(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => (session.closed ? resolve() : session.close(() => resolve())));
}

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout, stderr })));
}

let a1: App;
let a2: App;
let ferry: FerryProcess;
const ports = { tls: 0, plain: 0, down: 0, small: 0, nobody: 0 };

function config(): object {
  const bind = (port: number): string => `127.0.0.1:${port}`;
  return {
    global: { groups: 1, threads: 1 },
    frontends: {
      tls: { mode: 'http', bind: [{ address: bind(ports.tls), tls: { certs: [pemFile], alpn: ['h2', 'http/1.1'] } }], backend: 'app' },
      plain: { mode: 'http', bind: [bind(ports.plain)], backend: 'app', rules: [{ if: { pathPrefix: '/gone/' }, backend: 'gone' }] },
      down: { mode: 'http', bind: [bind(ports.down)], backend: 'down' },
      small: { mode: 'http', bind: [bind(ports.small)], backend: 'app', http: { maxRequestLine: 512, maxHeaderSize: 1024, maxConcurrentStreams: 7 } },
    },
    backends: {
      app: { balance: 'roundrobin', servers: { a1: { address: `127.0.0.1:${a1.port}` }, a2: { address: `127.0.0.1:${a2.port}` } } },
      down: { retries: 0, servers: { d1: { address: `127.0.0.1:${ports.nobody}` } } },
      gone: { return: { status: 410, headers: { 'Content-Type': 'text/plain' }, body: 'gone\n' } },
    },
  };
}

test.before(async () => {
  a1 = await app('a1');
  a2 = await app('a2');
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
  ferry = await startFerry(config());
});

test.after(async () => {
  await ferry.stop();
  await a1.close();
  await a2.close();
});

test('TLS with ALPN h2: pseudo-headers become the request line and Host, response fields come lower case, one h2 access-log line', async () => {
  const session = tlsSession(ports.tls);
  try {
    const r = await ask(session, { ':path': '/hello?x=1', 'x-test': 'one', cookie: 'a=1' });
    assert.is(r.status, 200);
    const echo = echoOf(r);
    assert.is(echo.url, '/hello?x=1');
    assert.is(echo.method, 'GET');
    assert.is(echo.headers.host, `h2.test:${ports.tls}`);
    assert.is(echo.headers['x-test'], 'one');
    assert.is(echo.headers['x-forwarded-proto'], 'https');
    assert.is(r.headers['x-mixed-case'], 'yes');
    assert.not.ok('connection' in r.headers || 'keep-alive' in r.headers, JSON.stringify(r.headers));
    const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/hello?x=1');
    assert.is(line.protocol, 'h2');
    assert.is(line.frontend, 'tls');
    assert.is(line.status, 200);
    assert.is(line.termination, '--');
  } finally {
    await closed(session);
  }
});

test('cookie fields are joined for the HTTP/1.1 server, :authority becomes Host', async () => {
  const session = h2cSession(ports.plain);
  try {
    // Two cookie fields, as HTTP/2 clients may send them (RFC 9113 8.2.3).
    const r = await ask(session, { ':path': '/cookies', ':authority': 'x.test', cookie: ['a=1', 'b=2'] });
    assert.is(r.status, 200);
    assert.is(echoOf(r).headers.cookie, 'a=1; b=2');
    assert.is(echoOf(r).headers.host, 'x.test');
  } finally {
    await closed(session);
  }
});

test('POST with a 1 MiB body both ways (length given, and chunked with trailers): every byte, under flow control', async () => {
  const session = tlsSession(ports.tls);
  const body = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  try {
    const withLength = await ask(session, { ':method': 'POST', ':path': '/upload' }, body);
    assert.is(withLength.status, 200);
    assert.is(echoOf(withLength).length, body.length);
    assert.is(echoOf(withLength).sha, sha(body));
    assert.is(echoOf(withLength).headers['content-length'], String(body.length));
    const chunked = await ask(session, { ':method': 'POST', ':path': '/upload-chunked' }, body, { chunked: true, trailers: { 'x-checksum': 'abc' } });
    assert.is(chunked.status, 200);
    const echo = echoOf(chunked);
    assert.is(echo.length, body.length);
    assert.is(echo.sha, sha(body));
    assert.is(echo.headers['transfer-encoding'], 'chunked');
    assert.equal(echo.trailers, { 'x-checksum': 'abc' });
    const big = await ask(session, { ':path': `/big/${body.length}` });
    assert.is(big.status, 200);
    assert.is(big.body.length, body.length);
  } finally {
    await closed(session);
  }
});

test('response trailers reach the HTTP/2 client', async () => {
  const session = h2cSession(ports.plain);
  try {
    const r = await ask(session, { ':path': '/trailers' });
    assert.is(r.status, 200);
    assert.is(r.body.toString(), 'part1-part2');
    assert.is(r.trailers['x-sum'], '11');
  } finally {
    await closed(session);
  }
});

test('HEAD and 204 responses end without a body; Expect: 100-continue gets 100 before the final response', async () => {
  const session = h2cSession(ports.plain);
  try {
    const head = await ask(session, { ':method': 'HEAD', ':path': '/head' });
    assert.is(head.status, 200);
    assert.is(head.body.length, 0);
    const none = await ask(session, { ':path': '/status/204' });
    assert.is(none.status, 204);
    assert.is(none.body.length, 0);
    let continued = false;
    const posted = await new Promise<number>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/continue', expect: '100-continue', 'content-length': 5 });
      stream.on('continue', () => {
        continued = true;
        stream.end('hello');
      });
      stream.on('response', (h) => resolve(Number(h[':status'])));
      stream.on('error', reject);
      stream.resume();
    });
    assert.ok(continued, 'the client got 100 Continue');
    assert.is(posted, 200);
  } finally {
    await closed(session);
  }
});

test('many concurrent streams on one connection, spread over the servers', async () => {
  const session = tlsSession(ports.tls);
  const before = { a1: a1.seen.length, a2: a2.seen.length };
  try {
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => ask(session, { ':path': `/delay/20?n=${i}` })));
    assert.ok(replies.every((r) => r.status === 200), replies.map((r) => r.status).join(','));
    assert.equal(new Set(replies.map((r) => echoOf(r).url)).size, 60);
    assert.ok(a1.seen.length > before.a1 && a2.seen.length > before.a2, `both servers served: ${a1.seen.length - before.a1} and ${a2.seen.length - before.a2}`);
  } finally {
    await closed(session);
  }
});

test('a server that fails one stream: 502 on that stream only, the others on the connection go on', async () => {
  const session = h2cSession(ports.plain);
  try {
    const [slow, broken, after] = await Promise.all([ask(session, { ':path': '/delay/100' }), ask(session, { ':path': '/reset' }), ask(session, { ':path': '/ok' })]);
    assert.is(slow.status, 200);
    assert.is(broken.status, 502);
    assert.is(broken.body.toString(), '502 Bad Gateway\n');
    assert.is(after.status, 200);
    assert.is((await ask(session, { ':path': '/again' })).status, 200, 'the connection is still usable');
    const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/reset');
    assert.is(line.status, 502);
    assert.is(line.protocol, 'h2');
  } finally {
    await closed(session);
  }
});

test('rules and built-in services serve HTTP/2 streams too: a return backend answers, the next stream goes to the servers', async () => {
  const session = h2cSession(ports.plain);
  try {
    const gone = await ask(session, { ':path': '/gone/page' });
    assert.equal([gone.status, gone.headers['content-type'], gone.body.toString()], [410, 'text/plain', 'gone\n']);
    const head = await ask(session, { ':method': 'HEAD', ':path': '/gone/page' });
    assert.equal([head.status, head.body.length], [410, 0]);
    const served = await ask(session, { ':path': '/kept' });
    assert.is(echoOf(served).url, '/kept');
    const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/gone/page');
    assert.equal([line.protocol, line.backend, line.server, line.status], ['h2', 'gone', '<return>', 410]);
  } finally {
    await closed(session);
  }
});

test('no usable server: 503 over h2c', async () => {
  const session = h2cSession(ports.down);
  try {
    const r = await ask(session, { ':path': '/nothing' });
    assert.is(r.status, 503);
    assert.is(r.body.toString(), '503 Service Unavailable\n');
  } finally {
    await closed(session);
  }
});

test('limits: the concurrent streams a client may open come from http.maxConcurrentStreams; fields past maxHeaderSize get 431', async () => {
  const session = h2cSession(ports.small);
  try {
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    assert.is(session.remoteSettings.maxConcurrentStreams, 7);
    const r = await ask(session, { ':path': '/small', 'x-filler': 'y'.repeat(900) });
    assert.is(r.status, 200, 'a head within the limit goes through');
  } finally {
    await closed(session);
  }
  const big = h2cSession(ports.small);
  try {
    const r = await ask(big, { ':path': '/large', 'x-filler': 'y'.repeat(1500) });
    assert.is(r.status, 431);
    const line = await ferry.waitLog((l) => l.msg === 'request refused' && l.path === '/large');
    assert.is(line.reason, 'request fields too large');
    assert.is(line.protocol, 'h2');
  } finally {
    await closed(big);
  }
});

test('curl --http2 over TLS, and --http2-prior-knowledge for h2c', async () => {
  const tls = await curl(['--http2', '--cacert', ca.cert, '--resolve', `h2.test:${ports.tls}:127.0.0.1`, '-w', '\n%{http_version}', `https://h2.test:${ports.tls}/curl-tls`]);
  assert.is(tls.code, 0, tls.stderr);
  const [body, version] = tls.stdout.split('\n');
  assert.is(version, '2');
  assert.is((JSON.parse(body) as Echo).url, '/curl-tls');
  const h2c = await curl(['--http2-prior-knowledge', '-w', '\n%{http_version}', `http://127.0.0.1:${ports.plain}/curl-h2c`]);
  assert.is(h2c.code, 0, h2c.stderr);
  assert.is(h2c.stdout.split('\n')[1], '2');
  const plain = await curl(['-w', '\n%{http_version}', `http://127.0.0.1:${ports.plain}/curl-h1`]);
  assert.is(plain.stdout.split('\n')[1], '1.1', 'a plain HTTP/1.1 client on the same bind still gets h1');
});

test('an HTTP/1.1 client on the TLS bind that negotiates http/1.1 is served by h1', async () => {
  const socket = tlsConnect({ host: '127.0.0.1', port: ports.tls, ca: ca.pem, servername: 'h2.test', ALPNProtocols: ['http/1.1'] });
  let received = '';
  socket.setEncoding('latin1').on('data', (c: string) => (received += c));
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  assert.is(socket.alpnProtocol, 'http/1.1');
  socket.write('GET /via-h1 HTTP/1.1\r\nHost: h2.test\r\nConnection: close\r\n\r\n');
  await new Promise((resolve) => socket.once('end', resolve));
  assert.ok(received.startsWith('HTTP/1.1 200 OK\r\n'), received);
  const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/via-h1');
  assert.is(line.protocol, 'h1');
});

test('reload: a stream in flight completes after GOAWAY, and the next request goes to the new generation on a new connection', async () => {
  const b1 = await app('b1');
  const port = await freePort();
  const cfg = (): object => ({ global: { groups: 1, threads: 1 }, frontends: { web: { mode: 'http', bind: [`127.0.0.1:${port}`], backend: 'app' } }, backends: { app: { servers: { b1: { address: `127.0.0.1:${b1.port}` } } } } });
  const file = writeConfig(cfg());
  const f = await startFerry(undefined, { args: ['-c', file] });
  const session = h2cSession(port);
  try {
    assert.is((await ask(session, { ':path': '/first' })).status, 200);
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    const inFlight = ask(session, { ':path': '/delay/800' });
    await waitUntil(() => b1.seen.some((r) => r.url === '/delay/800'), 5000, 'the slow request at the server');
    const outcome = await reloadWith(f, file, cfg());
    assert.is(outcome.msg, 'reload done');
    assert.is(await goaway, constants.NGHTTP2_NO_ERROR);
    const slow = await inFlight;
    assert.is(slow.status, 200, 'the stream under way finished');
    await new Promise((resolve) => (session.closed ? resolve(undefined) : session.once('close', resolve)));
    const next = h2cSession(port);
    const r = await ask(next, { ':path': '/next' });
    assert.is(r.status, 200);
    await closed(next);
    const first = await f.waitLog((l) => l.msg === 'request' && l.path === '/delay/800');
    const second = await f.waitLog((l) => l.msg === 'request' && l.path === '/next');
    assert.is(first.generation, 1);
    assert.is(second.generation, 2);
  } finally {
    session.destroy();
    await f.stop();
    await b1.close();
  }
});

test('config: http.maxConcurrentStreams defaults to 100; a bad value is refused, naming the key', () => {
  const raw = (http: object): object => ({ frontends: { web: { mode: 'http', bind: ['127.0.0.1:8080'], backend: 'app', http } }, backends: { app: { servers: { s1: { address: '127.0.0.1:9000' } } } } });
  assert.is(validateConfig(raw({})).config!.frontends.web.http!.maxConcurrentStreams, 100);
  assert.is(validateConfig(raw({ maxConcurrentStreams: 8 })).config!.frontends.web.http!.maxConcurrentStreams, 8);
  assert.equal(validateConfig(raw({ maxConcurrentStreams: 0 })).problems, ['frontends.web.http.maxConcurrentStreams: expected an integer from 1 to 1000, found 0']);
});

test('stop: a stream in flight completes after GOAWAY, then the connection closes', async () => {
  const b1 = await app('b1');
  const port = await freePort();
  const f = await startFerry({ global: { groups: 1, threads: 1 }, frontends: { web: { mode: 'http', bind: [`127.0.0.1:${port}`], backend: 'app' } }, backends: { app: { servers: { b1: { address: `127.0.0.1:${b1.port}` } } } } });
  const session = h2cSession(port);
  try {
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    const inFlight = ask(session, { ':path': '/delay/300' });
    await waitUntil(() => b1.seen.some((r) => r.url === '/delay/300'), 5000, 'the slow request at the server');
    const stopped = f.stop();
    assert.is(await goaway, constants.NGHTTP2_NO_ERROR);
    assert.is((await inFlight).status, 200, 'the stream under way finished');
    await new Promise((resolve) => (session.closed ? resolve(undefined) : session.once('close', resolve)));
    assert.is((await stopped).code, 0);
  } finally {
    session.destroy();
    await f.stop();
    await b1.close();
  }
});

test('h2Request: what the gateway refuses, and how it frames the body', () => {
  const raw = (h: Record<string, string>): string[] => Object.entries(h).flat();
  const base = { ':method': 'POST', ':path': '/p', ':scheme': 'https', ':authority': 'a.test' };
  const refusal = (h: Record<string, string>, ended = false): string => {
    try {
      h2Request(h, raw(h), ended, 32768);
    } catch (e) {
      return `${(e as HttpRefusal).status} ${(e as HttpRefusal).reason}`;
    }
    return 'accepted';
  };
  assert.is(refusal({ ...base, host: 'b.test' }), '400 a Host field that differs from :authority');
  assert.is(refusal({ ...base, host: 'A.test' }), 'accepted');
  assert.is(refusal({ ...base, connection: 'close' }), '400 the connection-specific field connection in an HTTP/2 request');
  assert.is(refusal({ ...base, 'transfer-encoding': 'chunked' }), '400 the connection-specific field transfer-encoding in an HTTP/2 request');
  assert.is(refusal({ ...base, te: 'gzip' }), '400 the connection-specific field te in an HTTP/2 request');
  assert.is(refusal({ ...base, te: 'trailers' }), 'accepted');
  assert.is(refusal({ ...base, ':method': 'CONNECT' }), '501 CONNECT over HTTP/2 is not supported');
  assert.is(refusal({ ':method': 'GET', ':path': '/', ':scheme': 'http' }), '400 an HTTP/2 request without :authority or Host');
  assert.is(refusal({ ...base, 'content-length': 'x' }), '400 a Content-Length that is not a number');
  const framing = (h: Record<string, string>, ended: boolean): string => h2Request(h, raw(h), ended, 32768).head.framing.kind;
  assert.is(framing(base, true), 'none');
  assert.is(framing({ ...base, 'content-length': '5' }, false), 'length');
  assert.is(framing(base, false), 'chunked');
  const { head } = h2Request({ ':method': 'GET', ':path': '/', ':scheme': 'http', host: 'h.test' }, raw({ ':method': 'GET', ':path': '/', ':scheme': 'http', host: 'h.test' }), true, 32768);
  assert.is(head.fields.get('host'), 'h.test', 'Host stands in for a missing :authority');
});

test('h2Preface: the HTTP/2 connection preface, a beginning of it, or not', () => {
  assert.is(h2Preface(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0')), 'yes');
  assert.is(h2Preface(Buffer.from('PRI * HTTP/2')), 'more');
  assert.is(h2Preface(Buffer.from('P')), 'more');
  assert.is(h2Preface(Buffer.from('POST / HTTP/1.1\r\n')), 'no');
  assert.is(h2Preface(Buffer.from('PRI * HTTP/1.1\r\n\r\n')), 'no');
});

test.run();
