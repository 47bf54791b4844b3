import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import { TestCa } from './helpers/certs';
import { reloadWith, startFerry, tmpPath, writeConfig, type FerryProcess } from './helpers/ferry';
import { exchange, freePort, listen } from './helpers/net';

/** node:http servers that answer with their own name. */
const names = ['main', 'api', 'shop', 'static', 'canary', 'h1', 'h2', 'h3'] as const;
type Name = (typeof names)[number];
const servers = new Map<Name, { server: Server; port: number; sockets: Set<Socket> }>();
let ferry: FerryProcess;
const ports = { web: 0, uri: 0, hdr: 0 };

test.before(async () => {
  for (const name of names) {
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end(name));
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    servers.set(name, { server, port: await listen(server as unknown as import('node:net').Server), sockets });
  }
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  const one = (name: Name): object => ({ servers: { [name]: { address: `127.0.0.1:${servers.get(name)!.port}` } } });
  const three = Object.fromEntries((['h1', 'h2', 'h3'] as const).map((n) => [n, { address: `127.0.0.1:${servers.get(n)!.port}` }]));
  ferry = await startFerry({
    global: { groups: 1, threads: 1 },
    frontends: {
      web: {
        mode: 'http',
        bind: [`127.0.0.1:${ports.web}`],
        backend: 'main',
        rules: [
          { if: { host: 'api.example' }, backend: 'api' },
          { if: { host: '*.shop.example' }, backend: 'shop' },
          { if: { pathPrefix: '/static/' }, backend: 'static' },
          { if: { header: { name: 'x-canary', value: '1' } }, backend: 'canary' },
          { if: { host: 'both.example', pathPrefix: '/v2/' }, backend: 'api' },
          { if: { pathPrefix: '/missing' }, backend: 'gone' },
          { if: { pathPrefix: '/health' }, backend: 'health' },
        ],
      },
      uri: { mode: 'http', bind: [`127.0.0.1:${ports.uri}`], backend: 'byUri' },
      hdr: { mode: 'http', bind: [`127.0.0.1:${ports.hdr}`], backend: 'byUser' },
    },
    backends: {
      main: one('main'),
      api: one('api'),
      shop: one('shop'),
      static: one('static'),
      canary: one('canary'),
      gone: { return: { status: 404, headers: { 'content-type': 'text/plain', 'x-from': 'ferry' }, body: 'not here\n' } },
      health: { service: 'health' },
      byUri: { balance: 'uri', servers: three },
      byUser: { balance: 'hdr(x-user)', servers: three },
    },
  });
});

test.after(async () => {
  await ferry?.stop();
  for (const { server, sockets } of servers.values()) {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  reused: boolean;
}

function get(port: number, path: string, opts: { agent?: Agent; method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: opts.agent, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

async function bodyOf(path: string, headers: Record<string, string> = {}): Promise<string> {
  return (await get(ports.web, path, { headers })).body;
}

test('host, pathPrefix and header rules route to their backends, the first match wins, the default otherwise', async () => {
  assert.is(await bodyOf('/', { Host: 'api.example' }), 'api');
  assert.is(await bodyOf('/', { Host: 'API.Example:8080' }), 'api', 'host: any case, port ignored');
  assert.is(await bodyOf('/', { Host: 'a.shop.example' }), 'shop');
  assert.is(await bodyOf('/', { Host: 'a.b.shop.example' }), 'main', 'a wildcard stands for one label');
  assert.is(await bodyOf('/static/app.js', { Host: 'x' }), 'static');
  assert.is(await bodyOf('/static/app.js', { Host: 'api.example' }), 'api', 'the first matching rule wins');
  assert.is(await bodyOf('/staticfile', { Host: 'x' }), 'main');
  assert.is(await bodyOf('/', { Host: 'x', 'X-Canary': '1' }), 'canary');
  assert.is(await bodyOf('/', { Host: 'x', 'X-Canary': '0' }), 'main');
  assert.is(await bodyOf('/v2/users', { Host: 'both.example' }), 'api', 'a rule with two conditions: both hold');
  assert.is(await bodyOf('/v1/users', { Host: 'both.example' }), 'main', 'a rule with two conditions: one fails');
  assert.is(await bodyOf('/anything', { Host: 'x' }), 'main');
});

test('within one keep-alive connection, each request goes where its rules say; logs and counters name that backend', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const asked: [string, Record<string, string>, string][] = [
    ['/r/1', { Host: 'x' }, 'main'],
    ['/r/2', { Host: 'api.example' }, 'api'],
    ['/static/r/3', { Host: 'x' }, 'static'],
    ['/missing/r/4', { Host: 'x' }, 'not here\n'],
    ['/r/5', { Host: 'x', 'X-Canary': '1' }, 'canary'],
    ['/health', { Host: 'x' }, 'ok\n'],
    ['/r/7', { Host: 'x' }, 'main'],
  ];
  const before = (await sendCommand(ferry.control, 'show stat')).data as { backends: { name: string; requests?: number }[] };
  const requestsOf = (stat: typeof before, name: string): number => stat.backends.find((b) => b.name === name)?.requests ?? 0;
  const replies: Reply[] = [];
  for (const [path, headers] of asked) replies.push(await get(ports.web, path, { agent, headers }));
  agent.destroy();
  assert.equal(
    replies.map((r) => r.body),
    asked.map((a) => a[2]),
  );
  assert.ok(replies.slice(1).every((r) => r.reused), 'one client connection carried every request');
  const backendOf = async (path: string): Promise<unknown> => (await ferry.waitLog((l) => l.msg === 'request' && l.path === path)).backend;
  assert.equal(await Promise.all(asked.map(([path]) => backendOf(path))), ['main', 'api', 'static', 'gone', 'canary', 'health', 'main']);
  const after = (await sendCommand(ferry.control, 'show stat')).data as typeof before;
  for (const [name, n] of [['main', 2], ['api', 1], ['static', 1], ['gone', 1], ['canary', 1]] as const) {
    assert.is(requestsOf(after, name) - requestsOf(before, name), n, `requests counted on ${name}`);
  }
});

test('return answers its fixed response without a server, keep-alive kept, HEAD without body, a request body drained', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const first = await get(ports.web, '/missing', { agent, headers: { Host: 'x' } });
  assert.is(first.status, 404);
  assert.is(first.body, 'not here\n');
  assert.is(first.headers['content-type'], 'text/plain');
  assert.is(first.headers['x-from'], 'ferry');
  assert.is(first.headers['content-length'], '9');
  const head = await get(ports.web, '/missing/head', { agent, method: 'HEAD', headers: { Host: 'x' } });
  assert.is(head.status, 404);
  assert.is(head.body, '');
  assert.ok(head.reused);
  const posted = await get(ports.web, '/missing/post', { agent, method: 'POST', headers: { Host: 'x' }, body: 'x'.repeat(100_000) });
  assert.is(posted.status, 404);
  assert.ok(posted.reused);
  const next = await get(ports.web, '/after-post', { agent, headers: { Host: 'x' } });
  assert.is(next.body, 'main');
  assert.ok(next.reused, 'the connection goes on after a body the service dropped');
  agent.destroy();
  const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/missing/post');
  assert.is(line.server, '<return>');
  assert.is(line.backend, 'gone');
  assert.is(line.status, 404);
  assert.is(line.termination, '--');
  assert.ok((line.bytesIn as number) > 100_000);
});

test('return: a request waiting for 100 Continue is answered and the connection closed', async () => {
  const raw = await exchange(ports.web, 'POST /missing HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  assert.match(String(raw.data), /^HTTP\/1\.1 404 Not Found\r\n[^]*Connection: close\r\n\r\nnot here\n$/);
});

test('health answers 200 while the generation serves, as the access log shows', async () => {
  const reply = await get(ports.web, '/health', { headers: { Host: 'x' } });
  assert.is(reply.status, 200);
  assert.is(reply.body, 'ok\n');
  assert.is(reply.headers['cache-control'], 'no-store');
  const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/health' && l.server === '<health>');
  assert.is(line.backend, 'health');
});

async function serverFor(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  return (await get(port, path, { headers })).body;
}

test('balance uri: the same path reaches the same server whatever its query string; paths spread over every server', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const first = await serverFor(ports.uri, `/item/${i}`);
    for (let q = 0; q < 3; q++) assert.is(await serverFor(ports.uri, `/item/${i}?q=${q}`), first, `/item/${i} stays on ${first}`);
    seen.add(first);
  }
  assert.equal([...seen].sort(), ['h1', 'h2', 'h3']);
});

test('balance hdr(x-user): the same value reaches the same server; values spread; without the header, round-robin', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const first = await serverFor(ports.hdr, `/u/${i}`, { 'X-User': `user-${i}` });
    for (let k = 0; k < 3; k++) assert.is(await serverFor(ports.hdr, `/other/${k}`, { 'X-User': `user-${i}` }), first, `user-${i} stays on ${first}`);
    seen.add(first);
  }
  assert.equal([...seen].sort(), ['h1', 'h2', 'h3']);
  const plain: string[] = [];
  for (let i = 0; i < 6; i++) plain.push(await serverFor(ports.hdr, '/same'));
  assert.equal([...plain].sort(), ['h1', 'h1', 'h2', 'h2', 'h3', 'h3'], 'round-robin without the header');
});

/**
 * A stopping generation reads no new request on a connection it can hand over, but a TLS connection
 * stays with its generation: a reload leaves it on the old one, which then answers its requests as
 * a stopping generation does.
 */
test('health over TLS keep-alive: a reload in place keeps the connection, a reload in new processes closes it once idle, and the next request reaches the new generation', async () => {
  const ca = new TestCa('routing-ca');
  const certs = tmpPath('routing-certs');
  mkdirSync(certs);
  writeFileSync(join(certs, 'web.pem'), ca.issue('web', ['web.test']).pem);
  const port = await freePort();
  const config = {
    global: { groups: 1, threads: 1 },
    frontends: { web: { mode: 'http', bind: [{ address: `127.0.0.1:${port}`, tls: { certs } }], backend: 'health' } },
    backends: { health: { service: 'health' } },
  };
  const file = writeConfig(config);
  const tls = await startFerry(undefined, { args: ['-c', file] });
  const agent = new TlsAgent({ keepAlive: true, maxSockets: 1, ca: ca.pem, servername: 'web.test' });
  const ask = (via: TlsAgent): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = tlsRequest({ host: '127.0.0.1', port, path: '/health', agent: via, servername: 'web.test', checkServerIdentity: () => undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), headers: res.headers, reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    const before = await ask(agent);
    assert.equal([before.status, before.body], [200, 'ok\n']);
    // In place the TLS connection carries on in the same process, under the new generation.
    assert.is((await reloadWith(tls, file, config)).inPlace, true);
    await tls.waitLog((l) => l.msg === 'old generation exited' && l.generation === 1);
    const kept = await ask(agent);
    assert.ok(kept.reused, 'the same connection');
    assert.equal([kept.status, kept.body], [200, 'ok\n']);
    assert.is((await tls.waitLog((l) => l.msg === 'request' && l.generation === 2)).server, '<health>');
    // New processes: the old generation closes the idle TLS connection rather than keep it until the hard stop.
    assert.ok((await reloadWith(tls, file, config, 'SIGUSR2')).processes);
    await tls.waitLog((l) => l.msg === 'old generation exited' && l.generation === 2);
    const after = await ask(agent);
    assert.not.ok(after.reused, 'a new connection');
    assert.equal([after.status, after.body], [200, 'ok\n']);
    const line = await tls.waitLog((l) => l.msg === 'request' && l.generation === 3);
    assert.is(line.server, '<health>');
  } finally {
    agent.destroy();
    await tls.stop();
  }
});

test('ferry start without -c serves the embedded configuration, and curl gets hello and health', async () => {
  const [web, echo, stats] = [await freePort(), await freePort(), await freePort()];
  const standalone = await startFerry(undefined, { args: ['--set', `frontends.default.bind=["127.0.0.1:${web}"]`, '--set', `frontends.echo.bind=["127.0.0.1:${echo}"]`, '--set', `frontends.stats.bind=["127.0.0.1:${stats}"]`] });
  try {
    const curl = (path: string): Promise<string> =>
      new Promise((resolve, reject) => execFile('curl', ['-sS', '-i', `http://127.0.0.1:${web}${path}`], (err, stdout) => (err ? reject(err) : resolve(stdout))));
    assert.match(await curl('/'), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhello from ferry\n$/);
    assert.match(await curl('/health'), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\n$/);
  } finally {
    await standalone.stop();
  }
});

test.run();
