import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFerry } from './helpers/ferry';
import { blackhole, exchange, freePort, holdingServer, namedServer, openClient, silentServer, whoAnswers, closeAll } from './helpers/net';
import { oneFrontend, serversAt } from './helpers/configs';

function proxyConfig(port: number, backend: object): object {
  return oneFrontend(port, backend, { global: { threads: 1 } });
}

test('roundrobin follows the weights, spread out', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const ferry = await startFerry(proxyConfig(port, { balance: 'roundrobin', servers: serversAt(['a', a.port, 1], ['b', b.port, 2]) }));
  try {
    const order: string[] = [];
    for (let i = 0; i < 30; i++) order.push(await whoAnswers(port));
    assert.is(order.filter((n) => n === 'a').length, 10);
    assert.is(order.filter((n) => n === 'b').length, 20);
    // Smooth: never two a's in a row.
    assert.not.match(order.join(''), /aa/);
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('leastconn sends new sessions to the server with fewer open ones', async () => {
  const [a, b] = [await holdingServer('a'), await holdingServer('b')];
  const port = await freePort();
  const ferry = await startFerry(proxyConfig(port, { balance: 'leastconn', servers: serversAt(['a', a.port], ['b', b.port]) }));
  try {
    const held = await openClient(port);
    await held.waitFor('\n');
    const busy = held.received().trim();
    for (let i = 0; i < 6; i++) {
      const c = await openClient(port);
      await c.waitFor('\n');
      assert.is.not(c.received().trim(), busy, 'the busy server gets nothing while the other is idle');
      c.socket.end();
      await c.closed;
    }
    held.socket.end();
    await held.closed;
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('a dead server is skipped by redispatch and every client is served', async () => {
  const alive = await namedServer('alive');
  const dead = await freePort();
  const port = await freePort();
  const ferry = await startFerry(proxyConfig(port, { retries: 2, servers: serversAt(['dead', dead], ['alive', alive.port]) }));
  try {
    for (let i = 0; i < 6; i++) assert.is(await whoAnswers(port), 'alive');
    const retried = await ferry.waitLog((l) => l.msg === 'session' && (l.retries as number) > 0);
    assert.is(retried.server, 'alive');
    assert.is(retried.termination, '--');
  } finally {
    await ferry.stop();
    await alive.close();
  }
});

test('with every server down the client is closed at once and the log says why', async () => {
  const [d1, d2] = [await freePort(), await freePort()];
  const port = await freePort();
  const ferry = await startFerry(proxyConfig(port, { retries: 3, timeout: { connect: '5s' }, servers: serversAt(['d1', d1], ['d2', d2]) }));
  try {
    const { data, ms } = await exchange(port, 'hello?', { end: false });
    assert.is(data.length, 0);
    assert.ok(ms < 2000, `closed after ${ms} ms`);
    const line = await ferry.waitMsg('session');
    assert.is(line.termination, 'SC');
    assert.is(line.retries, 3);
  } finally {
    await ferry.stop();
  }
});

test('a server that stops answering is cut at timeout.server', async () => {
  const mute = await silentServer();
  const port = await freePort();
  const ferry = await startFerry(proxyConfig(port, { timeout: { server: '300ms' }, servers: serversAt(['mute', mute.port]) }));
  try {
    const { ms } = await exchange(port, 'anyone?', { end: false });
    assert.ok(ms >= 250, `closed after ${ms} ms`);
    assert.is((await ferry.waitMsg('session')).termination, 'sD');
  } finally {
    await ferry.stop();
    await mute.close();
  }
});

test('a connect that hangs is abandoned at timeout.connect', async () => {
  const hole = await blackhole();
  const port = await freePort();
  const ferry = await startFerry(proxyConfig(port, { retries: 1, timeout: { connect: '200ms' }, servers: serversAt(['hole', hole.port]) }));
  try {
    const { ms } = await exchange(port, 'knock', { end: false });
    assert.ok(ms >= 350, `two attempts of 200 ms, closed after ${ms} ms`);
    const line = await ferry.waitMsg('session');
    assert.is(line.termination, 'sC');
    assert.is(line.retries, 1);
  } finally {
    await ferry.stop();
    hole.close();
  }
});

test('timeout.tunnel replaces the client and server timeouts once connected', async () => {
  const server = await holdingServer('held');
  const port = await freePort();
  const ferry = await startFerry(proxyConfig(port, { timeout: { server: '20s', tunnel: '300ms' }, servers: serversAt(['held', server.port]) }));
  try {
    const c = await openClient(port);
    await c.waitFor('held');
    await c.closed;
    // A timeout in the data phase well before the 20 s server timeout: the tunnel timeout's doing.
    const session = await ferry.waitMsg('session');
    assert.match(String(session.termination), /^[cs]D$/);
    assert.ok((session.totalMs as number) < 5000, `closed after ${String(session.totalMs)} ms`);
  } finally {
    await ferry.stop();
    await server.close();
  }
});

test.run();
