import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFerry, tmpPath, type FerryProcess } from './helpers/ferry';
import { echoServer, exchange, freePort, openClient, type TestServer } from './helpers/net';

let backend: TestServer;
let ferry: FerryProcess;
let port: number;
const socketPath = tmpPath('ferry-front.sock');
const abstractName = `ferry-test-${process.pid}`;

test.before(async () => {
  backend = await echoServer();
  port = await freePort();
  ferry = await startFerry({
    global: { groups: 1, threads: 1 },
    frontends: {
      web: { bind: [`127.0.0.1:${port}`, { address: `unix@${socketPath}`, mode: '0640' }, `abns@${abstractName}`], backend: 'app' },
    },
    backends: { app: { servers: { echo: { address: `127.0.0.1:${backend.port}` } } } },
  });
});

test.after(async () => {
  await ferry?.stop();
  await backend?.close();
});

test('relays bytes both ways and keeps a half-close half-closed', async () => {
  const c = await openClient(port);
  c.socket.write('ping');
  await c.waitFor('ping');
  // The client stops sending; the server side must still be able to answer before closing.
  c.socket.end('pong');
  await c.waitFor('pingpong');
  const { ended, error } = await c.closed;
  assert.ok(ended, 'the client sees a clean FIN after its own');
  assert.is(error, undefined);
});

test('moves 10 MB intact through the proxy', async () => {
  const payload = randomBytes(10 * 1024 * 1024);
  const { data, ended } = await exchange(port, payload, { timeoutMs: 30_000 });
  assert.is(data.length, payload.length);
  assert.is(createHash('sha256').update(data).digest('hex'), createHash('sha256').update(payload).digest('hex'));
  assert.ok(ended);
});

test('serves Unix-socket and abstract-namespace binds', async () => {
  assert.is(statSync(socketPath).mode & 0o777, 0o640, 'the socket file has the configured mode');
  assert.is(String((await exchange(0, 'over a path', { path: socketPath })).data), 'over a path');
  assert.is(String((await exchange(0, 'abstract', { path: `\0${abstractName}` })).data), 'abstract');
});

test('logs one access line per session with bytes, server and termination', async () => {
  const c = await openClient(port);
  const client = `127.0.0.1:${c.socket.localPort}`;
  c.socket.end('twelve bytes');
  await c.closed;
  const line = await ferry.waitLog((l) => l.msg === 'session' && l.client === client);
  assert.is(line.frontend, 'web');
  assert.is(line.backend, 'app');
  assert.is(line.server, 'echo');
  assert.is(line.bytesIn, 12);
  assert.is(line.bytesOut, 12);
  assert.is(line.termination, '--');
  assert.is(line.group, 0);
  assert.is(line.thread, 0);
  assert.is(line.generation, 1);
});

test.run();
