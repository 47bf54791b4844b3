// The acceptor in process: real loopback sockets, a built-in echo service as the backend, no child
// process. The test plays the master: it holds the socket and hands the thread a dup of it, at start
// and when the listener asks again (rearm).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Backend } from '../../src/backend/backend';
import { Acceptor } from '../../src/listener/acceptor';
import { Frontend } from '../../src/listener/frontend';
import { Listener } from '../../src/listener/listener';
import { Receiver } from '../../src/listener/receiver';
import { ECHO } from '../helpers/configs';
import { dup } from '../helpers/dup';
import { configOf, masterSocket, silent } from '../helpers/layers';

const ID = { group: 0, thread: 0, generation: 1 };

/** One thread's acceptor over one TCP frontend with one bind, in front of the echo service. */
async function thread(opts: { maxconn?: number; globalMaxconn?: number } = {}) {
  const master = masterSocket();
  const config = configOf({
    global: { groups: 1, threads: 1, maxconn: opts.globalMaxconn ?? 100 },
    frontends: { web: { bind: [`127.0.0.1:${master.port}`], backend: 'app', ...(opts.maxconn !== undefined && { maxconn: opts.maxconn }) } },
    backends: { app: ECHO },
  });
  const fc = config.frontends.web;
  const frontend = new Frontend(fc, fc.maxconn);
  /** The thread's session count after each release, and who waits for the next. */
  const ended: number[] = [];
  let waiters: (() => void)[] = [];
  const released = (n: number): Promise<void> => (ended.length >= n ? Promise.resolve() : new Promise<void>((w) => waiters.push(w)).then(() => released(n)));
  const rearms: string[] = [];
  const acceptor = new Acceptor([frontend], config.global.maxconn, silent, ID, () => {
    ended.push(acceptor.count);
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  });
  acceptor.serve(frontend, new Backend(config.backends.app, 1), undefined);
  const receiver = new Receiver(fc.bind[0], fc.backlog, acceptor.acceptOn(frontend, fc.bind[0].text, undefined), (err) => assert.unreachable(err.message));
  const listener = new Listener(receiver, (id) => rearms.push(id));
  frontend.listeners.push(listener);
  const first = await dup(master.handle);
  await new Promise<void>((resolve) => listener.open(first, resolve));
  const handDup = async (): Promise<void> => listener.adopt(await dup(master.handle));
  return { port: master.port, acceptor, frontend, listener, receiver, ended, released, rearms, handDup, close: () => master.handle.close() };
}

/** A client whose echo came back: its session is live in the acceptor. */
async function echoing(port: number): Promise<Socket> {
  const c = connect(port, '127.0.0.1');
  c.write('x');
  await once(c, 'data');
  return c;
}

test("a frontend's maxconn: the listener goes full at its share, a new client waits in the kernel queue, and is served once a session ends and the rearm's dup comes", async () => {
  const t = await thread({ maxconn: 2 });
  const a = await echoing(t.port);
  assert.is(t.listener.state, 'ready');
  const b = await echoing(t.port);
  assert.is(t.acceptor.count, 2);
  assert.is(t.frontend.sessions, 2);
  assert.is(t.listener.state, 'full');
  assert.not.ok(t.receiver.listening, 'a full listener holds no dup');
  const c = connect(t.port, '127.0.0.1');
  await once(c, 'connect');
  c.write('y');
  assert.equal(t.rearms, []);
  a.destroy();
  await t.released(1);
  assert.equal(t.ended, [1]);
  assert.is(t.listener.state, 'ready');
  assert.equal(t.rearms, [`tcp:127.0.0.1:${t.port}`]);
  await t.handDup();
  await once(c, 'data');
  assert.is(t.acceptor.count, 2);
  assert.is(t.frontend.accepted, 3);
  assert.is(t.listener.state, 'full');
  b.destroy();
  c.destroy();
  t.acceptor.stop(true);
  t.close();
});

test("the thread's share of global.maxconn limits every frontend: the listener is limited, not full", async () => {
  const t = await thread({ globalMaxconn: 1 });
  const a = await echoing(t.port);
  assert.is(t.acceptor.count, 1);
  assert.is(t.listener.state, 'limited');
  assert.not.ok(t.receiver.listening);
  a.destroy();
  t.acceptor.stop(true);
  t.close();
});

test('stop pauses every listener; a session that ends then no longer asks for a dup', async () => {
  const t = await thread({ maxconn: 1 });
  const a = await echoing(t.port);
  assert.is(t.listener.state, 'full');
  t.acceptor.stop(false);
  assert.is(t.listener.state, 'paused');
  a.destroy();
  await t.released(1);
  assert.is(t.acceptor.count, 0);
  assert.is(t.listener.state, 'paused');
  assert.equal(t.rearms, [], 'a stopping thread asks for no dup');
  t.close();
});

test('kill ends every session at once, and each is released', async () => {
  const t = await thread();
  const clients = [await echoing(t.port), await echoing(t.port), await echoing(t.port)];
  assert.is(t.acceptor.sessions.size, 3);
  t.acceptor.stop(false);
  t.acceptor.kill();
  await t.released(3);
  assert.is(t.acceptor.count, 0);
  assert.is(t.acceptor.sessions.size, 0);
  assert.equal(t.ended, [2, 1, 0]);
  await Promise.all(clients.map((c) => once(c, 'close')));
  t.close();
});

test.run();
