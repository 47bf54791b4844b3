import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reloadWith, startFerry, writeConfig } from './helpers/ferry';
import { httpBackend, statusOf, waitUntil } from './helpers/http';
import { freePort, openClient } from './helpers/net';

function httpConfig(port: number, backendPort: number, server: object = {}): object {
  return {
    global: { groups: 1, threads: 1 },
    frontends: { web: { bind: [`127.0.0.1:${port}`], mode: 'http', backend: 'app' } },
    backends: { app: { servers: { a1: { address: `127.0.0.1:${backendPort}`, ...server } } } },
  };
}

const responses = (text: string): number => (text.match(/HTTP\/1\.1 200 OK/g) ?? []).length;

test('an idle keep-alive client connection moves to the next generation on reload, and one busy during it moves after its response', async () => {
  const app = await httpBackend();
  const port = await freePort();
  const file = writeConfig(httpConfig(port, app.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const idle = await openClient(port);
    idle.socket.write('GET /before HTTP/1.1\r\nHost: a\r\n\r\n');
    await idle.waitFor('"url":"/before"');
    const busy = await openClient(port);
    busy.socket.write('GET /hold HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => app.seen.some((r) => r.url === '/hold'), 5000, 'the held request at the server');

    const outcome = await reloadWith(ferry, file, httpConfig(port, app.port, { weight: 2 }));
    assert.is(outcome.msg, 'reload done');
    assert.not.ok(busy.received().includes('/hold'), 'the reload came while the held request was under way');
    app.release();
    await busy.waitFor('"url":"/hold"');

    idle.socket.write('GET /after HTTP/1.1\r\nHost: a\r\n\r\n');
    await idle.waitFor('"url":"/after"');
    busy.socket.write('GET /busy-after HTTP/1.1\r\nHost: a\r\n\r\n');
    await busy.waitFor('"url":"/busy-after"');
    assert.is(responses(idle.received()), 2);
    assert.is(responses(busy.received()), 2);
    assert.not.ok(/HTTP\/1\.1 [45]\d\d/.test(idle.received() + busy.received()), 'no error on either connection');
    for (const path of ['/after', '/busy-after']) {
      const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === path);
      assert.is(line.generation, 2, `${path} served by the new generation`);
      assert.equal(line.generations, [1, 2]);
    }
    idle.socket.end();
    busy.socket.end();
  } finally {
    await ferry.stop();
    await app.close();
  }
});

test('stopping: the request under way is answered, with Connection: close, and idle connections close cleanly', async () => {
  const app = await httpBackend();
  const port = await freePort();
  const ferry = await startFerry(httpConfig(port, app.port));
  const idle = await openClient(port);
  idle.socket.write('GET /idle HTTP/1.1\r\nHost: a\r\n\r\n');
  await idle.waitFor('"url":"/idle"');
  const busy = await openClient(port);
  busy.socket.write('GET /hold HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitUntil(() => app.seen.some((r) => r.url === '/hold'), 5000, 'the held request at the server');
  const stopped = ferry.stop();
  // The stop has begun once the idle connection is closed; only then may the held request end.
  await idle.closed;
  app.release();
  const [idleEnd, busyEnd] = await Promise.all([idle.closed, busy.closed]);
  await stopped;
  await app.close();
  assert.ok(idleEnd.ended && busyEnd.ended, `both closed with a FIN: ${JSON.stringify([idleEnd, busyEnd, busy.received()])}`);
  assert.is(statusOf(busy.received()), 200);
  assert.ok(busy.received().includes('Connection: close'), busy.received());
  assert.ok(busy.received().includes('"url":"/hold"'));
});

test.run();
