import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config/validate';
import { sendCommand } from '../src/control/client';
import type { BackendSnapshot } from '../src/proto/snapshot';
import { oneFrontend } from './helpers/configs';
import { reloadWith, startFerry, writeConfig, type FerryProcess, type LogLine } from './helpers/ferry';
import { closeAll, echoServer, freePort, holdingServer, openClient, type OpenClient } from './helpers/net';

/** One backend "app" with one server "s" at `port`, at most one session at a time (threads: 1). */
function limited(frontPort: number, serverPort: number, timeout: object = { queue: '10s' }): object {
  return oneFrontend(frontPort, { timeout, servers: { s: { address: `127.0.0.1:${serverPort}`, maxconn: 1 } } });
}

async function backendStat(ferry: FerryProcess): Promise<BackendSnapshot> {
  const reply = await sendCommand(ferry.control, 'show stat');
  assert.ok(reply.ok, reply.lines.join('\n'));
  return (reply.data as { backends: BackendSnapshot[] }).backends[0];
}

/** Asks `show stat` again until `holds` is true of the backend: the queue has no log line of its own. */
async function statUntil(ferry: FerryProcess, holds: (b: BackendSnapshot) => boolean, what: string, timeoutMs = 10_000): Promise<BackendSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stat = await backendStat(ferry);
    if (holds(stat)) return stat;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last show stat: ${JSON.stringify(stat)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A client and the address ferry logs for it (which the socket forgets once closed). */
type Client = OpenClient & { address: string };

async function client(port: number): Promise<Client> {
  const c = await openClient(port);
  return { ...c, address: `127.0.0.1:${c.socket.localPort}` };
}

/** Connects a client and waits until it is the `n`th in the queue. */
async function queuedClient(ferry: FerryProcess, port: number, n: number): Promise<Client> {
  const c = await client(port);
  await statUntil(ferry, (b) => b.queue.current === n, `${n} queued`);
  return c;
}

function sessionOf(ferry: FerryProcess, c: Client): Promise<LogLine> {
  return ferry.waitLog((l) => l.msg === 'session' && l.client === c.address);
}

async function closeClient(c: OpenClient): Promise<void> {
  c.socket.end();
  await c.closed;
}

test('past a server maxconn, sessions wait in arrival order and each takes the slot that frees', async () => {
  const server = await holdingServer('s');
  const port = await freePort();
  const ferry = await startFerry(limited(port, server.port));
  try {
    const first = await client(port);
    await first.waitFor('s');
    const waiting = [await queuedClient(ferry, port, 1), await queuedClient(ferry, port, 2), await queuedClient(ferry, port, 3)];
    assert.is(server.accepted, 1, 'maxconn 1: one connection to the server');
    assert.ok(waiting.every((c) => c.received() === ''));

    let holder = first;
    for (const [i, next] of waiting.entries()) {
      await closeClient(holder);
      await next.waitFor('s');
      const later = waiting.slice(i + 1);
      assert.ok(later.every((c) => c.received() === ''), `client ${i + 1} served before those who came after it`);
      assert.is(server.sockets.size, 1, 'never more than maxconn connections to the server');
      holder = next;
    }
    await closeClient(holder);
    const line = await sessionOf(ferry, waiting[2]);
    assert.is(line.termination, '--');
    assert.is(line.server, 's');
    assert.ok((line.queueMs as number) > 0, `queueMs ${line.queueMs}`);
    assert.is((await sessionOf(ferry, first)).queueMs, 0);

    const stat = await statUntil(ferry, (b) => b.current === 0, 'every session ended');
    assert.equal(stat.queue, { current: 0, max: 3, total: 3, timedOut: 0 });
    assert.equal(
      stat.servers.map((s) => [s.name, s.maxconn, s.total, s.fromQueue]),
      [['s', 1, 4, 3]],
    );
    const text = await sendCommand(ferry.control, 'show stat');
    assert.match(text.lines.join('\n'), /backend\s+app\s+0\s+4\s+0\s+3\s+3\s+0/);
    assert.match(text.lines.join('\n'), /server\s+app\/s\s+UP\s+1\s+0\s+4\s+0\s+127\.0\.0\.1:\d+\s+-\s+1\s+3/);
  } finally {
    await ferry.stop();
    await server.close();
  }
});

test('a full server is skipped while another has room; a waiting session takes whichever slot frees first', async () => {
  const [a, b] = [await holdingServer('a'), await holdingServer('b')];
  const port = await freePort();
  const servers = { a: { address: `127.0.0.1:${a.port}`, maxconn: 1 }, b: { address: `127.0.0.1:${b.port}`, maxconn: 1 } };
  const ferry = await startFerry(oneFrontend(port, { balance: 'leastconn', servers }));
  try {
    const first = await client(port);
    await first.waitFor('\n');
    const second = await client(port);
    await second.waitFor('\n');
    assert.equal([first.received(), second.received()].sort(), ['a\n', 'b\n'], 'one session on each server');
    const third = await queuedClient(ferry, port, 1);
    const onB = first.received() === 'b\n' ? first : second;
    await closeClient(onB);
    await third.waitFor('b');
    assert.is(a.accepted + b.accepted, 3);
    for (const c of [first, second, third]) c.socket.destroy();
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('a retry on a full server keeps its own slot there', async () => {
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { retries: 2, servers: { s: { address: `127.0.0.1:${await freePort()}`, maxconn: 1 } } }));
  try {
    const refused = await client(port);
    await refused.closed;
    const line = await sessionOf(ferry, refused);
    assert.is(line.termination, 'SC', 'every attempt went to the only server, where the session held the slot');
    assert.is(line.retries, 2);
    assert.is((await backendStat(ferry)).servers[0].active, 0, 'the slot was given back');
  } finally {
    await ferry.stop();
  }
});

test('a session that waits longer than timeout.queue is closed with sQ', async () => {
  const server = await holdingServer('s');
  const port = await freePort();
  const ferry = await startFerry(limited(port, server.port, { queue: '300ms' }));
  try {
    const first = await client(port);
    await first.waitFor('s');
    const late = await client(port);
    const { error } = await late.closed;
    assert.is(error, undefined, 'closed, not reset');
    assert.is(late.received(), '');
    const line = await sessionOf(ferry, late);
    assert.is(line.termination, 'sQ');
    assert.is(line.server, '-');
    assert.ok((line.queueMs as number) >= 250, `queueMs ${line.queueMs}`);
    const stat = await backendStat(ferry);
    assert.equal(stat.queue, { current: 0, max: 1, total: 1, timedOut: 1 });
    assert.is(server.accepted, 1);
    assert.is(first.received(), 's\n', 'the session holding the slot goes on');
    await closeClient(first);
  } finally {
    await ferry.stop();
    await server.close();
  }
});

test('with no usable server, clients wait; enable server or a weight above 0 serves them at once', async () => {
  const server = await holdingServer('s');
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { timeout: { queue: '10s' }, servers: { s: { address: `127.0.0.1:${server.port}` } } }));
  try {
    assert.ok((await sendCommand(ferry.control, 'disable server app/s')).ok);
    const disabled = await queuedClient(ferry, port, 1);
    assert.ok((await sendCommand(ferry.control, 'set weight app/s 0')).ok);
    assert.ok((await sendCommand(ferry.control, 'enable server app/s')).ok);
    const weightless = await queuedClient(ferry, port, 2);
    assert.is(server.accepted, 0);
    assert.is(disabled.received() + weightless.received(), '', 'enabled with weight 0 is still not usable');

    assert.ok((await sendCommand(ferry.control, 'set weight app/s 1')).ok);
    await disabled.waitFor('s');
    await weightless.waitFor('s');
    assert.is(server.accepted, 2);
    for (const c of [disabled, weightless]) await closeClient(c);
    assert.is((await sessionOf(ferry, disabled)).termination, '--');
    const stat = await statUntil(ferry, (b) => b.current === 0, 'both sessions ended');
    assert.equal(stat.queue, { current: 0, max: 2, total: 2, timedOut: 0 });
    assert.is(stat.servers[0].maxconn, null);
  } finally {
    await ferry.stop();
    await server.close();
  }
});

test('queued sessions move to the next generation on reload, keep their order and bytes, and wait behind the tunnel that holds the slot', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const file = writeConfig(limited(port, echo.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const first = await client(port);
    first.socket.write('first;');
    await first.waitFor('first;');
    const second = await queuedClient(ferry, port, 1);
    second.socket.write('second;');
    const third = await queuedClient(ferry, port, 2);
    third.socket.write('third;');

    await reloadWith(ferry, file, limited(port, echo.port));
    const gone = await ferry.waitMsg('old generation exited');
    assert.is(gone.handedOver, 3);
    const stat = await statUntil(ferry, (b) => b.queue.current === 2, 'the queue in generation 2');
    assert.equal(stat.servers[0].active, 1, 'the tunnel holds the slot in generation 2');
    assert.is(echo.accepted, 1, 'nobody took the slot of the tunnel');
    assert.is(second.received() + third.received(), '');
    first.socket.write('after;');
    await first.waitFor('after;');

    await closeClient(first);
    await second.waitFor('second;');
    assert.is(third.received(), '', 'the second came first');
    await closeClient(second);
    await third.waitFor('third;');
    await closeClient(third);

    for (const c of [second, third]) {
      const line = await sessionOf(ferry, c);
      assert.is(line.termination, '--');
      assert.is(line.adopted, true);
      assert.equal(line.generations, [1, 2]);
      assert.ok((line.queueMs as number) > 0);
    }
    assert.is(echo.accepted, 3);
    assert.is(ferry.logs.filter((l) => l.msg.startsWith('handed-over session lost')).length, 0);
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('config: server maxconn and timeout.queue are checked, and the queue waits timeout.connect by default', () => {
  const raw = (server: object, timeout: object): unknown => ({
    frontends: { web: { bind: ['127.0.0.1:8080'], backend: 'app' } },
    backends: { app: { timeout, servers: { s1: { address: '127.0.0.1:9000', ...server } } } },
  });
  assert.equal(validateConfig(raw({ maxconn: 0 }, { queue: 'soon' })).problems, [
    'backends.app.timeout.queue: expected a duration such as "250ms", "30s" or "5m", found "soon"',
    'backends.app.servers.s1.maxconn: expected an integer from 1 to 1000000, found 0',
  ]);
  assert.equal(validateConfig(raw({ maxconn: '10' }, {})).problems, ['backends.app.servers.s1.maxconn: expected an integer from 1 to 1000000, found "10"']);
  const app = validateConfig(raw({ maxconn: 10 }, { connect: '2s' })).config!.backends.app;
  assert.is(app.timeout.queue, 2_000);
  assert.is(app.servers[0].maxconn, 10);
  assert.not.ok('maxconn' in validateConfig(raw({}, {})).config!.backends.app.servers[0]);
});

test.run();
