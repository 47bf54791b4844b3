import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reloadWith, startFerry, writeConfig } from './helpers/ferry';
import { httpBackend, statusOf, waitUntil } from './helpers/http';
import { TestCa } from './helpers/certs';
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
    busy.socket.write('GET /hold/busy HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => app.seen.some((r) => r.url === '/hold/busy'), 5000, 'the held request at the server');

    const outcome = await reloadWith(ferry, file, httpConfig(port, app.port, { weight: 2 }));
    assert.is(outcome.msg, 'reload done');
    assert.is(busy.received(), '', 'the reload came while the request was under way');
    app.release('busy');
    await busy.waitFor('"url":"/hold/busy"');

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

/** GETs `path` through `agent` again and again until stopped; counts answers and failures. */
function keepGetting(port: number, agent: Agent): { stop(): Promise<{ ok: number; failures: string[] }> } {
  let going = true;
  let ok = 0;
  const failures: string[] = [];
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/load', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push(`status ${res.statusCode}`);
          resolve();
        });
      });
      req.on('error', (e) => {
        failures.push(e.message);
        resolve();
      });
      req.end();
    });
  const loop = (async () => {
    while (going) await once();
  })();
  return {
    stop: async () => {
      going = false;
      await loop;
      return { ok, failures };
    },
  };
}

test('a reload in place hands the idle server connections over: the next generation reuses them, and one busy during it after its response', async () => {
  const app = await httpBackend();
  const port = await freePort();
  const file = writeConfig(httpConfig(port, app.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const busy = await openClient(port);
    busy.socket.write('GET /hold/busy HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => app.seen.some((r) => r.url === '/hold/busy'), 5000, 'the held request at the server');
    const idle = await openClient(port);
    idle.socket.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\n');
    await idle.waitFor('"url":"/one"');
    assert.is(app.connections, 2, 'one server connection held, one idle');

    const same = await reloadWith(ferry, file, httpConfig(port, app.port));
    assert.is(same.inPlace, true);
    app.release('busy');
    await busy.waitFor('"url":"/hold/busy"');
    idle.socket.write('GET /two HTTP/1.1\r\nHost: a\r\n\r\n');
    await idle.waitFor('"url":"/two"');
    busy.socket.write('GET /three HTTP/1.1\r\nHost: a\r\n\r\n');
    await busy.waitFor('"url":"/three"');
    assert.is(app.connections, 2, 'no new server connection');
    for (const path of ['/two', '/three']) {
      const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === path);
      assert.is(line.generation, 2, `${path} served by the new generation`);
      assert.is(line.reused, true, `${path} went on a server connection of the old generation`);
    }

    // A server whose settings change keeps its connections in the old generation, which closes them.
    const changed = await reloadWith(ferry, file, httpConfig(port, app.port, { weight: 2 }));
    assert.is(changed.inPlace, true);
    idle.socket.write('GET /four HTTP/1.1\r\nHost: a\r\n\r\n');
    await idle.waitFor('"url":"/four"');
    assert.is(app.connections, 3, 'a new connection for the changed server');
    assert.is((await ferry.waitLog((l) => l.msg === 'request' && l.path === '/four')).reused, false);
    idle.socket.end();
    busy.socket.end();
  } finally {
    await ferry.stop();
    await app.close();
  }
});

test('a reload under keep-alive load: no request fails, and the connections carry on in the new generation', async () => {
  const app = await httpBackend();
  const port = await freePort();
  const file = writeConfig(httpConfig(port, app.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  const agents = [1, 2, 3, 4].map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  try {
    const loads = agents.map((agent) => keepGetting(port, agent));
    await waitUntil(() => app.seen.length >= 50, 10_000, 'traffic');
    for (const weight of [2, 3]) {
      const outcome = await reloadWith(ferry, file, httpConfig(port, app.port, { weight }));
      assert.is(outcome.msg, 'reload done');
      const seen = app.seen.length;
      await waitUntil(() => app.seen.length >= seen + 50, 10_000, 'traffic after the reload');
    }
    const results = await Promise.all(loads.map((l) => l.stop()));
    assert.equal(results.flatMap((r) => r.failures), []);
    assert.ok(results.every((r) => r.ok > 0));
    await ferry.waitLog((l) => l.msg === 'request' && l.generation === 3 && Array.isArray(l.generations) && (l.generations as number[]).join() === '1,2,3');
  } finally {
    for (const a of agents) a.destroy();
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
  busy.socket.write('GET /hold/stop HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitUntil(() => app.seen.some((r) => r.url === '/hold/stop'), 5000, 'the held request at the server');
  const stopped = ferry.stop();
  await ferry.waitMsg('thread stopping: no longer accepting');
  app.release('stop');
  const [idleEnd, busyEnd] = await Promise.all([idle.closed, busy.closed]);
  await stopped;
  await app.close();
  assert.ok(idleEnd.ended && busyEnd.ended, `both closed with a FIN: ${JSON.stringify([idleEnd, busyEnd, busy.received()])}`);
  assert.is(statusOf(busy.received()), 200);
  assert.ok(busy.received().includes('Connection: close'), busy.received());
  assert.ok(busy.received().includes('"url":"/hold/stop"'));
});

test('a reload in new processes closes an idle HTTP/1.1 keep-alive connection on TLS, which cannot move, and answers a busy one with Connection: close; in place both carry on', async () => {
  const ca = new TestCa('http-reload-tls');
  const pem = join(ca.dir, 'site.pem');
  writeFileSync(pem, ca.issue('site', ['site.test']).pem);
  const app = await httpBackend();
  const port = await freePort();
  const config = (weight: number): object => ({
    global: { groups: 1, threads: 1 },
    frontends: { web: { bind: [{ address: `127.0.0.1:${port}`, tls: { certs: [pem] } }], mode: 'http', backend: 'app' } },
    backends: { app: { servers: { a1: { address: `127.0.0.1:${app.port}`, weight } } } },
  });
  const file = writeConfig(config(1));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  const open = async (): Promise<{ socket: TLSSocket; text: () => string; closed: () => boolean }> => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'site.test', ca: ca.pem });
    await once(socket, 'secureConnect');
    let text = '';
    socket.on('data', (d: Buffer) => (text += String(d)));
    return { socket, text: () => text, closed: () => socket.closed };
  };
  try {
    const idle = await open();
    idle.socket.write('GET /first HTTP/1.1\r\nHost: site.test\r\n\r\n');
    await waitUntil(() => idle.text().includes('"url":"/first"'), 5000, 'the first response');
    const busy = await open();
    busy.socket.write('GET /hold/tls HTTP/1.1\r\nHost: site.test\r\n\r\n');
    await waitUntil(() => app.seen.some((r) => r.url === '/hold/tls'), 5000, 'the held request at the server');
    // In place the TLS state stays in the process: both connections carry on in generation 2.
    assert.is((await reloadWith(ferry, file, config(2))).inPlace, true);
    app.release('tls');
    await waitUntil(() => busy.text().includes('"url":"/hold/tls"'), 5000, 'the held response');
    for (const [c, path] of [[idle, '/second'], [busy, '/after-hold']] as const) {
      c.socket.write(`GET ${path} HTTP/1.1\r\nHost: site.test\r\n\r\n`);
      const line = await ferry.waitLog((l) => l.msg === 'request' && l.path === path);
      assert.equal(line.generations, [1, 2], `${path} served by generation 2 on the same TLS connection`);
    }
    assert.is(idle.closed() || busy.closed(), false);

    busy.socket.write('GET /hold/again HTTP/1.1\r\nHost: site.test\r\n\r\n');
    await waitUntil(() => app.seen.some((r) => r.url === '/hold/again'), 5000, 'the held request at the server');
    assert.ok((await reloadWith(ferry, file, config(3), 'SIGUSR2')).processes);
    await waitUntil(idle.closed, 5000, 'the idle TLS connection closed by the reload');
    app.release('again');
    await waitUntil(busy.closed, 5000, 'the busy TLS connection closed after its response');
    assert.ok(busy.text().includes('Connection: close') && busy.text().includes('"url":"/hold/again"'), busy.text());
    await ferry.waitLog((l) => l.msg === 'old generation exited' && l.generation === 2);
  } finally {
    await ferry.stop();
    await app.close();
  }
});

test.run();
