import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeProxyHeader } from '../src/conn/proxy/encode';
import { TestCa } from './helpers/certs';
import { oneFrontend } from './helpers/configs';
import { firstCheckResult } from './helpers/control';
import { reloadWith, runCli, startFerry, tmpPath, writeConfig, type FerryProcess } from './helpers/ferry';
import { httpBackend, statusOf } from './helpers/http';
import { exchange, freePort, listen } from './helpers/net';
import { until } from './helpers/layers';
import { haproxy, nginx, NO_HAPROXY, NO_NGINX } from './helpers/peers';

if (NO_NGINX !== undefined) console.log(`proxy-protocol.test: the nginx tests are skipped: ${NO_NGINX}`);
if (NO_HAPROXY !== undefined) console.log(`proxy-protocol.test: the HAProxy test is skipped: ${NO_HAPROXY}`);
const withNginx = NO_NGINX === undefined ? test : test.skip;
const withHaproxy = NO_HAPROXY === undefined ? test : test.skip;

/** nginx behind `listen ... proxy_protocol`, answering every request with the client its header named. */
const ANSWER_PROXY_ADDR = 'location / { return 200 "$proxy_protocol_addr:$proxy_protocol_port\\n"; }';

/** The client ferry's servers should see: not ferry's own 127.0.0.1. */
const CLIENT_ADDRESS = '127.0.0.2';

/** A v2 header for 203.0.113.7:40000 reaching 192.0.2.1:443, as a balancer in front writes it. */
const FROM_DOCUMENTATION_NET = encodeProxyHeader('v2', { source: { address: '203.0.113.7', port: 40000 }, destination: { address: '192.0.2.1', port: 443 } });

interface KeptClient {
  socket: Socket;
  port: number;
  /** Sends a GET and resolves with the body of its response (nginx's answers have a Content-Length). */
  get(): Promise<string>;
}

/** A keep-alive HTTP/1.1 client from `localAddress`. */
function keptClient(port: number, localAddress: string, first: Buffer = Buffer.alloc(0)): Promise<KeptClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let received = Buffer.alloc(0);
    let waiting: ((body: string) => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received.toString('latin1', 0, end));
      if (end === -1 || length === null || received.length < end + 4 + Number(length[1])) return;
      const body = received.toString('latin1', end + 4, end + 4 + Number(length[1]));
      received = received.subarray(end + 4 + Number(length[1]));
      waiting?.(body);
    });
    socket.once('error', reject);
    // `first` goes out with the first request, in one write: the mux gets the bytes after the header from the same read.
    let pending = first;
    socket.once('connect', () => {
      resolve({
        socket,
        port: socket.localPort!,
        get: () =>
          new Promise((done) => {
            waiting = done;
            socket.write(Buffer.concat([pending, Buffer.from('GET / HTTP/1.1\r\nHost: test\r\n\r\n')]));
            pending = Buffer.alloc(0);
          }),
      });
    });
  });
}

/** One HTTP/1.0 request over ferry's TCP or HTTP frontend; the body of the answer and the client's port. */
async function askOnce(port: number, first: Buffer = Buffer.alloc(0)): Promise<{ body: string; from: string }> {
  const c = await keptClient(port, CLIENT_ADDRESS, first);
  try {
    return { body: (await c.get()).trim(), from: `${CLIENT_ADDRESS}:${c.port}` };
  } finally {
    c.socket.destroy();
  }
}

for (const mode of ['tcp', 'http'] as const) {
  for (const version of ['v1', 'v2'] as const) {
    withNginx(`sendProxy ${version}, ${mode} mode: nginx's $proxy_protocol_addr is the client's address and port`, async () => {
      const server = await nginx('proxy_protocol', ANSWER_PROXY_ADDR);
      const port = await freePort();
      const ferry = await startFerry(oneFrontend(port, { servers: { n: { address: `127.0.0.1:${server.port}`, sendProxy: version } } }, { frontend: { mode } }));
      try {
        const { body, from } = await askOnce(port);
        assert.is(body, from);
      } finally {
        await ferry.stop();
        await server.stop();
      }
    });
  }
}

for (const version of ['v1', 'v2'] as const) {
  withNginx(`health checks of a sendProxy ${version} server send ${version === 'v1' ? 'PROXY UNKNOWN' : 'LOCAL'}, which nginx takes`, async () => {
    const server = await nginx('proxy_protocol', 'location / { return 200 "ok\\n"; }');
    const port = await freePort();
    const ferry = await startFerry(oneFrontend(port, { servers: { n: { address: `127.0.0.1:${server.port}`, sendProxy: version, check: { type: 'http', interval: '100ms' } } } }));
    try {
      assert.equal(await firstCheckResult(ferry.control), { ok: true, result: 'HTTP 200' }, server.output);
    } finally {
      await ferry.stop();
      await server.stop();
    }
  });
}

withNginx('HTTP mode: a pooled server connection that sent one client\'s header is never used for another client', async () => {
  const server = await nginx('proxy_protocol', ANSWER_PROXY_ADDR);
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { sendProxy: 'v2', servers: { n: { address: `127.0.0.1:${server.port}` } } }, { frontend: { mode: 'http' } }));
  try {
    const a = await keptClient(port, '127.0.0.2');
    assert.is((await a.get()).trim(), `127.0.0.2:${a.port}`);
    const b = await keptClient(port, '127.0.0.3');
    assert.is((await b.get()).trim(), `127.0.0.3:${b.port}`, "b's request did not take a's server connection");
    assert.is((await a.get()).trim(), `127.0.0.2:${a.port}`, "a's second request still speaks for a");
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await ferry.stop();
    await server.stop();
  }
});

for (const mode of ['tcp', 'http'] as const) {
  withNginx(`acceptProxy, ${mode} mode: a client's v2 header for 203.0.113.7 is the client nginx sees and ferry logs`, async () => {
    const server = await nginx('proxy_protocol', ANSWER_PROXY_ADDR);
    const port = await freePort();
    const bind = { address: `127.0.0.1:${port}`, acceptProxy: true };
    const ferry = await startFerry(oneFrontend(bind, { servers: { n: { address: `127.0.0.1:${server.port}`, sendProxy: 'v1' } } }, { frontend: { mode } }));
    try {
      const { body } = await askOnce(port, FROM_DOCUMENTATION_NET);
      assert.is(body, '203.0.113.7:40000');
      const line = await ferry.waitLog((l) => l.msg === (mode === 'tcp' ? 'session' : 'request'));
      assert.is(line.client, '203.0.113.7:40000');
    } finally {
      await ferry.stop();
      await server.stop();
    }
  });
}

test('acceptProxy in HTTP mode: X-Forwarded-For and Forwarded name the client the header gave', async () => {
  const backend = await httpBackend();
  const port = await freePort();
  const ferry = await startFerry(
    oneFrontend({ address: `127.0.0.1:${port}`, acceptProxy: true }, { servers: { b: { address: `127.0.0.1:${backend.port}` } } }, { frontend: { mode: 'http', http: { forwarded: true } } }),
  );
  try {
    const { data } = await exchange(port, Buffer.concat([FROM_DOCUMENTATION_NET, Buffer.from('GET / HTTP/1.0\r\nHost: test\r\n\r\n')]));
    assert.is(statusOf(data), 200);
    assert.is(backend.seen[0].headers['x-forwarded-for'], '203.0.113.7');
    assert.is(backend.seen[0].headers.forwarded, 'for=203.0.113.7;proto=http');
  } finally {
    await ferry.stop();
    await backend.close();
  }
});

withHaproxy('HAProxy with send-proxy-v2 in front of ferry with acceptProxy: ferry logs the original client', async () => {
  const port = await freePort();
  const ferry = await startFerry(oneFrontend({ address: `127.0.0.1:${port}`, acceptProxy: true }, { service: 'hello' }));
  const front = await haproxy(port, 'send-proxy-v2');
  try {
    const socket = connect({ port: front.port, host: '127.0.0.1', localAddress: CLIENT_ADDRESS });
    const greeting = await new Promise<string>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('data', (c: Buffer) => resolve(String(c)));
    });
    assert.match(greeting, 'hello from ferry');
    const from = `${CLIENT_ADDRESS}:${socket.localPort}`;
    socket.destroy();
    // HAProxy relays the helper's probe of its port too: the line to find is this client's.
    const line = await ferry.waitLog((l) => l.msg === 'session' && l.client === from);
    assert.is(line.bytesOut, greeting.length);
  } finally {
    await front.stop();
    await ferry.stop();
  }
});

test('acceptProxy on a TLS bind: the header comes first, in plain text, and TLS follows on the same connection', async () => {
  const ca = new TestCa('proxy-tls-ca');
  const pem = tmpPath('proxy-tls.pem');
  writeFileSync(pem, ca.issue('ferry', ['ferry.test']).pem);
  const port = await freePort();
  const ferry = await startFerry(oneFrontend({ address: `127.0.0.1:${port}`, acceptProxy: true, tls: { certs: pem } }, { service: 'hello' }));
  try {
    for (const together of [false, true]) {
      const raw = connect({ port, host: '127.0.0.1' });
      await new Promise((resolve) => raw.once('connect', resolve));
      const secured = tlsConnect({ socket: together ? headerFirst(raw) : (raw.write(FROM_DOCUMENTATION_NET), raw), servername: 'ferry.test', ca: ca.pem });
      const greeting = await new Promise<string>((resolve, reject) => {
        secured.once('error', reject);
        secured.once('data', (c: Buffer) => resolve(String(c)));
      });
      assert.match(greeting, 'hello from ferry', together ? 'header and ClientHello in one segment' : 'apart');
      secured.destroy();
    }
    const lines = await ferry.waitLog((l) => l.msg === 'session', 10_000, 1).then(() => ferry.logs.filter((l) => l.msg === 'session'));
    for (const line of lines) {
      assert.is(line.client, '203.0.113.7:40000');
      assert.is((line.tls as { servername: string }).servername, 'ferry.test');
    }
  } finally {
    await ferry.stop();
  }
});

/** A stream over `raw` whose first write goes out in one piece with the PROXY header before it: the bytes after the header come in the same read. */
function headerFirst(raw: Socket): Duplex {
  let first = true;
  const stream: Duplex = new Duplex({
    write(chunk: Buffer, _encoding, done) {
      raw.write(first ? Buffer.concat([FROM_DOCUMENTATION_NET, chunk]) : chunk, done);
      first = false;
    },
    read() {},
    final(done) {
      raw.end(done);
    },
  });
  raw.on('data', (c: Buffer) => stream.push(c));
  raw.on('end', () => stream.push(null));
  stream.on('close', () => raw.destroy());
  return stream;
}

/** A server that counts the connections it gets: none may come from a connection without a valid header. */
async function countingServer(): Promise<{ port: number; connections: () => number; close(): void }> {
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  const port = await listen(server);
  return { port, connections: () => connections, close: () => server.close() };
}

const SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

const MALFORMED: [name: string, bytes: Buffer, reason: string][] = [
  ['a v1 line over 107 bytes', Buffer.from(`PROXY TCP4 203.0.113.7 192.0.2.1 1 2${' '.repeat(100)}\r\n`), 'PROXY v1 header longer than 107 bytes'],
  ['a bad v2 signature', Buffer.concat([SIGNATURE.subarray(0, 11), Buffer.from('X')]), 'no PROXY header: the connection began with'],
  ['an unknown v2 family', Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x51, 0, 12]), Buffer.alloc(12)]), 'unknown address family 0x51'],
  ['no header at all', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'no PROXY header: the connection began with "GET / HTTP/1.1'],
];

test('connections without a valid PROXY header are closed and logged, and nothing reaches a server', async () => {
  const server = await countingServer();
  const port = await freePort();
  const bind = { address: `127.0.0.1:${port}`, acceptProxy: true };
  const ferry = await startFerry(oneFrontend(bind, { servers: { s: { address: `127.0.0.1:${server.port}` } } }, { frontend: { timeout: { proxyHeader: '500ms' } } }));
  try {
    for (const [name, bytes, reason] of MALFORMED) {
      const result = await exchange(port, bytes, { end: false });
      assert.is(result.data.length, 0, `${name}: no answer`);
      const line = await ferry.waitLog((l) => l.msg === 'proxy header refused' && String(l.reason).includes(reason));
      assert.is(line.termination, 'CT', name);
      assert.is(line.frontend, 'web');
    }
    // A truncated v2 header, and one that trickles in, are cut by timeout.proxyHeader.
    const truncated = await exchange(port, Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x11, 0, 12]), Buffer.alloc(5)]), { end: false });
    assert.is(truncated.data.length, 0);
    const trickle = await trickleUntilClosed(port, Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 1 2'));
    assert.ok(trickle, 'the trickling client was closed before its header was whole');
    await ferry.until(() => ferry.logs.filter((l) => l.msg === 'proxy header refused' && l.reason === 'no complete PROXY header within 500ms').length === 2, 5000, 'both timeouts logged');
    const timedOut = ferry.logs.filter((l) => l.msg === 'proxy header refused' && l.termination === 'cT');
    assert.is(timedOut.length, 2);
    // A client that closes before its header is whole.
    await exchange(port, Buffer.from('PROXY TCP4 '));
    await ferry.waitLog((l) => l.msg === 'proxy header refused' && l.reason === 'the client closed the connection before its PROXY header was whole');
    assert.is(server.connections(), 0, 'nothing reached the server');
    // The bind still serves clients that send a header, after everything above.
    const ok = await exchange(port, Buffer.concat([FROM_DOCUMENTATION_NET, Buffer.from('x')]), { end: false });
    assert.is(ok.data.length, 0);
    await until(() => server.connections() === 1, 'the server got the valid connection');
  } finally {
    await ferry.stop();
    server.close();
  }
});

/** Sends `bytes` one a time, then keeps sending spaces, until ferry closes the connection (10 s at most). */
function trickleUntilClosed(port: number, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let at = 0;
    const timer = setInterval(() => {
      if (socket.writable) socket.write(at < bytes.length ? bytes.subarray(at, ++at) : ' ');
    }, 50);
    const deadline = setTimeout(() => socket.destroy(), 10_000);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(deadline);
      resolve(at < 200);
    });
  });
}

test('a tunnel handed over on reload keeps its PROXY-derived client, and its server gets no second header', async () => {
  const seen: Buffer[] = [];
  const server = createServer((s) => s.on('data', (c: Buffer) => (seen.push(c), s.write(c))));
  const serverPort = await listen(server);
  const port = await freePort();
  const config = oneFrontend({ address: `127.0.0.1:${port}`, acceptProxy: true }, { servers: { s: { address: `127.0.0.1:${serverPort}`, sendProxy: 'v2' } } });
  const file = writeConfig(config);
  const ferry: FerryProcess = await startFerry(undefined, { args: ['-c', file] });
  try {
    const socket = connect({ port, host: '127.0.0.1' });
    let echoed = '';
    // The server echoes what it gets, ferry's header included.
    socket.setEncoding('latin1').on('data', (c: string) => (echoed += c));
    socket.write(Buffer.concat([FROM_DOCUMENTATION_NET, Buffer.from('before;')]));
    await until(() => echoed.endsWith('before;'), 'the first bytes echoed');
    assert.is((await reloadWith(ferry, file, config)).msg, 'reload done');
    await ferry.waitLog((l) => l.msg === 'old generation exited' && l.handedOver === 1);
    socket.write('after;');
    await until(() => echoed.endsWith('before;after;'), 'the bytes after the reload echoed');
    socket.end();
    const line = await ferry.waitMsg('session');
    assert.is(line.adopted, true);
    assert.is(line.client, '203.0.113.7:40000');
    const all = Buffer.concat(seen);
    assert.is(all.indexOf(SIGNATURE), 0, 'the header came first');
    assert.is(all.indexOf(SIGNATURE, 1), -1, 'and only once');
    assert.is(all.subarray(all.length - 'before;after;'.length).toString(), 'before;after;');
  } finally {
    await ferry.stop();
    server.close();
  }
});

test('check refuses acceptProxy on a UDP bind and a sendProxy version ferry does not speak', async () => {
  const bad = {
    frontends: { u: { bind: [{ address: 'udp@127.0.0.1:5353', acceptProxy: true }], mode: 'udp', backend: 'b' } },
    backends: { b: { sendProxy: 'v3', servers: { s: { address: '127.0.0.1:53', sendProxy: true } } } },
  };
  const r = await runCli(['check', '-c', writeConfig(bad), '--no-bind']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, 'frontends.u.bind[0].acceptProxy: the PROXY protocol applies to TCP binds only');
  assert.match(r.stderr, 'backends.b.sendProxy: expected one of "v1", "v2"');
  assert.match(r.stderr, 'backends.b.servers.s.sendProxy: expected one of "v1", "v2"');
});

test.run();

