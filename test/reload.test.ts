import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reloadWith as reload, startFerry, writeConfig } from './helpers/ferry';
import { blackhole, echoServer, freePort, generationAt, holdingServer, keepAsking, openClient } from './helpers/net';
import { listeningInodes } from './helpers/proc';
import { ECHO, HELLO, oneFrontend, serversAt } from './helpers/configs';

function helloConfig(binds: number[], groups = 1): object {
  return oneFrontend(binds, HELLO, { global: { groups, hardStopAfter: '20s' } });
}

test('a reload starts the next generation on the same socket while the old one finishes what cannot move', async () => {
  const b = await holdingServer('b');
  const port = await freePort();
  const config = (backend: object): object => oneFrontend(port, backend, { global: { hardStopAfter: '20s' } });
  const file = writeConfig(config(ECHO));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const [socket] = listeningInodes(port);
    // A built-in service's session lives in its worker: it stays with the old generation.
    const old = await openClient(port);
    old.socket.write('old');
    await old.waitFor('old');
    await reload(ferry, file, config({ servers: { b: { address: `127.0.0.1:${b.port}` } } }), 'SIGUSR2');
    const fresh = await openClient(port);
    await fresh.waitFor('b');
    assert.equal(listeningInodes(port), [socket], 'the very same listening socket');
    old.socket.write(' still served');
    await old.waitFor('old still served');
    assert.is(ferry.logs.some((l) => l.msg === 'old generation exited'), false);
    old.socket.end();
    const { error } = await old.closed;
    assert.is(error, undefined);
    const gone = await ferry.waitMsg('old generation exited');
    assert.is(gone.handedOver, 0);
    assert.is(gone.closedAtHardStop, false, 'the session ended by itself');
    fresh.socket.end();
    await fresh.closed;
  } finally {
    await ferry.stop();
    await b.close();
  }
});

function proxyConfig(port: number, server: number, extra: object = {}, global: object = {}): object {
  return oneFrontend(port, { servers: serversAt(['s', server]), ...extra }, { global: { hardStopAfter: '20s', ...global } });
}

test('a tunnel survives 5 reloads with every byte in order, and each old worker is gone within 1 s', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const file = writeConfig(proxyConfig(port, echo.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const c = await openClient(port);
    let sent = '';
    const say = (text: string): void => {
      sent += text;
      c.socket.write(text);
    };
    for (let i = 1; i <= 5; i++) {
      say(`before reload ${i};`);
      const exited = ferry.logs.filter((l) => l.msg === 'old generation exited').length;
      await reload(ferry, file, proxyConfig(port, echo.port));
      const done = Date.now();
      say(`after reload ${i};`);
      const gone = await ferry.waitLog((l) => l.msg === 'old generation exited', 5000, exited);
      assert.ok(Date.now() - done < 1000, `generation ${gone.generation} took ${Date.now() - done} ms to leave`);
      assert.is(gone.handedOver, 1);
      await c.waitFor(sent);
    }
    assert.is(c.received(), sent, 'every byte, in order, once');
    c.socket.end();
    await c.closed;
    const line = await ferry.waitMsg('session');
    assert.is(line.adopted, true);
    assert.equal(line.generations, [1, 2, 3, 4, 5, 6]);
    assert.is(line.bytesIn, Buffer.byteLength(sent));
    assert.is(line.bytesOut, Buffer.byteLength(sent));
    assert.is(line.termination, '--');
    assert.is(ferry.logs.filter((l) => l.msg === 'session').length, 1, 'one access-log line for the whole session');
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('a tunnel moves into and out of worker threads as the group shape changes', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const shapes = [{ threads: 1 }, { threads: 2 }, { groups: 2, threads: 2 }, { threads: 1 }];
  const file = writeConfig(proxyConfig(port, echo.port, {}, shapes[0]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const c = await openClient(port);
    let sent = '';
    for (const [i, shape] of shapes.slice(1).entries()) {
      sent += `shape ${i};`;
      c.socket.write(`shape ${i};`);
      const exited = ferry.logs.filter((l) => l.msg === 'old generation exited').length;
      await reload(ferry, file, proxyConfig(port, echo.port, {}, shape));
      const gone = await ferry.waitLog((l) => l.msg === 'old generation exited', 5000, exited);
      assert.is(gone.handedOver, 1, `generation ${gone.generation} handed the tunnel over`);
      await c.waitFor(sent);
    }
    assert.is(c.received(), sent);
    c.socket.end();
    await c.closed;
    assert.equal((await ferry.waitMsg('session')).generations, [1, 2, 3, 4]);
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('a client accepted but not yet served at reload time is served by the next generation, bytes intact', async () => {
  const hole = await blackhole();
  const echo = await echoServer();
  const port = await freePort();
  const file = writeConfig(proxyConfig(port, hole.port, { timeout: { connect: '30s' } }));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const c = await openClient(port);
    c.socket.write('waiting since generation 1');
    // The old generation has read the bytes and is still connecting to a server that never answers.
    await reload(ferry, file, proxyConfig(port, echo.port));
    await c.waitFor('waiting since generation 1');
    c.socket.end();
    await c.closed;
    const line = await ferry.waitMsg('session');
    assert.equal(line.generations, [1, 2]);
    assert.is(line.server, 's');
  } finally {
    await ferry.stop();
    await echo.close();
    hole.close();
  }
});

for (const shape of [{ threads: 1 }, { groups: 2, threads: 2 }]) {
  test(`20 keep-alive clients with idle gaps go through 20 reloads without a failed request or a reset (${JSON.stringify(shape)})`, async () => {
    const echo = await echoServer();
    const port = await freePort();
    const file = writeConfig(proxyConfig(port, echo.port, {}, shape));
    const ferry = await startFerry(undefined, { args: ['-c', file] });
    try {
      let reloading = true;
      let requests = 0;
      const failures: string[] = [];
      const clients = await Promise.all(Array.from({ length: 20 }, () => openClient(port)));
      const load = clients.map(async (c, n) => {
        let i = 0;
        while (reloading) {
          const request = `client ${n} request ${i++}\n`;
          const expected = c.received() + request;
          c.socket.write(request);
          try {
            await c.waitFor(expected, 5000);
            requests++;
          } catch (err) {
            failures.push((err as Error).message);
            return;
          }
          await new Promise((r) => setTimeout(r, Math.random() * 40));
        }
      });
      for (let i = 0; i < 20; i++) await reload(ferry, file, proxyConfig(port, echo.port, {}, shape));
      reloading = false;
      await Promise.all(load);
      for (const c of clients) c.socket.end();
      const closes = await Promise.all(clients.map((c) => c.closed));
      assert.equal(failures, []);
      assert.equal(closes.filter((x) => x.error !== undefined), [], 'no reset');
      assert.ok(requests > 20, `${requests} requests`);
      assert.is(ferry.logs.filter((l) => l.msg.startsWith('handed-over session lost')).length, 0);
    } finally {
      await ferry.stop();
      await echo.close();
    }
  });
}

test('past maxReloads old generations draining, the oldest is hard-stopped', async () => {
  const port = await freePort();
  const config = oneFrontend(port, ECHO, { global: { maxReloads: 1, hardStopAfter: '60s' } });
  const file = writeConfig(config);
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    // Sessions of a built-in service cannot move: each stays in its generation.
    const first = await openClient(port);
    first.socket.write('1');
    await first.waitFor('1');
    await reload(ferry, file, config);
    const second = await openClient(port);
    second.socket.write('2');
    await second.waitFor('2');
    await reload(ferry, file, config);
    const cut = await ferry.waitLog((l) => l.msg === 'too many old generations: hard-stopping the oldest');
    assert.is(cut.generation, 1);
    await first.closed;
    assert.is((await ferry.waitLog((l) => l.msg === 'old generation exited')).closedAtHardStop, true);
    second.socket.write('still');
    await second.waitFor('2still');
    second.socket.end();
    await second.closed;
  } finally {
    await ferry.stop();
  }
});

test('an invalid configuration is refused, with its problems, and changes nothing', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig([port]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    await reload(ferry, file, { ...helloConfig([port]), global: { groups: 0 } });
    const refused = ferry.logs.find((l) => l.msg.startsWith('reload refused'))!;
    assert.match(JSON.stringify(refused.problems), /global\.groups: expected an integer from 1 to 64, found 0/);
    assert.is(await generationAt(port), 1);
  } finally {
    await ferry.stop();
  }
});

test('binds added by a reload open; binds it removes close once the old generation is gone', async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const file = writeConfig(helloConfig([p1]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    await reload(ferry, file, helloConfig([p1, p2]));
    assert.is(await generationAt(p1), 2);
    assert.is(await generationAt(p2), 2);
    await reload(ferry, file, helloConfig([p2]));
    await ferry.waitLog((l) => l.msg === 'receiver closed' && l.bind === `127.0.0.1:${p1}`);
    assert.equal(listeningInodes(p1), []);
    assert.is(await generationAt(p2), 3);
  } finally {
    await ferry.stop();
  }
});

test('a bind a reload cannot make refuses the reload', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig([port]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    // An address this host lacks: nobody can bind it, root or not.
    await reload(ferry, file, oneFrontend(port, HELLO, { frontend: { bind: [`127.0.0.1:${port}`, '192.0.2.1:8080'] } }));
    const refused = ferry.logs.filter((l) => l.msg.startsWith('reload refused')).pop()!;
    assert.match(JSON.stringify(refused.problems), /192\.0\.2\.1:8080.*address not available/);
    assert.is(await generationAt(port), 1);
  } finally {
    await ferry.stop();
  }
});

test('a new generation whose worker dies before it is ready is given up, and the old one serves on', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig([port]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    // New worker processes: SIGUSR2 (a reload in place starts none).
    ferry.proc.kill('SIGUSR2');
    const started = await ferry.waitLog((l) => l.msg === 'worker started' && l.generation === 2);
    process.kill(started.worker as number, 'SIGKILL');
    const refused = await ferry.waitLog((l) => l.msg.startsWith('reload refused'));
    assert.is(refused.reason, 'new workers did not start');
    assert.is(await generationAt(port), 1);
    assert.is(ferry.logs.some((l) => l.msg === 'worker died: restarting it'), false, 'no restart of a failed new generation');
  } finally {
    await ferry.stop();
  }
});

test('no connection is refused or reset while reloads follow each other', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig([port], 2));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const asking = keepAsking(port);
    for (let i = 0; i < 5; i++) await reload(ferry, file, helloConfig([port], 2));
    const { served, failures } = await asking.stop();
    assert.equal(failures, []);
    assert.ok(served > 0);
    assert.is(ferry.logs.filter((l) => l.msg === 'reload done').length, 5);
  } finally {
    await ferry.stop();
  }
});

test.run();
