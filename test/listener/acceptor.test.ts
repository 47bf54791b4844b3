// The acceptor in process: real loopback sockets, a built-in echo service as the backend, no child
// process. Each listener's dup is its own SO_REUSEPORT socket on the same port, as a rearm's fresh
// dup would be.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { createReuseportFd } from 'node-unix-socket';
import { Backend } from '../../src/backend/backend';
import { checkConfig } from '../../src/config/validate';
import type { Config } from '../../src/config/types';
import { Acceptor } from '../../src/listener/acceptor';
import { Frontend } from '../../src/listener/frontend';
import { Listener } from '../../src/listener/listener';
import { Receiver } from '../../src/listener/receiver';
import { createLogger } from '../../src/log/log';

const ID = { group: 0, thread: 0, generation: 1 };

/** One thread's acceptor over one TCP frontend with one bind, in front of the echo service. */
function thread(opts: { maxconn?: number; globalMaxconn?: number } = {}) {
  const port = portOf(createReuseportFd(0, '127.0.0.1'));
  const raw = {
    global: { groups: 1, threads: 1, maxconn: opts.globalMaxconn ?? 100, log: { level: 'silent' } },
    frontends: { web: { bind: [`127.0.0.1:${port}`], backend: 'app', ...(opts.maxconn !== undefined && { maxconn: opts.maxconn }) } },
    backends: { app: { service: 'echo' } },
  };
  const checked = checkConfig(raw);
  if (checked.config === undefined) throw new Error(checked.problems.join('\n'));
  const config: Config = checked.config;
  const fc = config.frontends.web;
  const frontend = new Frontend(fc, fc.maxconn);
  /** The thread's session count after each release, and who waits for the next. */
  const ended: number[] = [];
  let waiters: (() => void)[] = [];
  const released = (n: number): Promise<void> => (ended.length >= n ? Promise.resolve() : new Promise<void>((w) => waiters.push(w)).then(() => released(n)));
  const rearms: string[] = [];
  const acceptor = new Acceptor([frontend], config.global.maxconn, createLogger(config.global.log, { role: 'master' }), ID, () => {
    ended.push(acceptor.count);
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  });
  acceptor.serve(frontend, new Backend(config.backends.app, 1, () => {}), undefined);
  const accept = acceptor.acceptOn(frontend, undefined);
  const receiver = new Receiver(fc.bind[0], fc.backlog, accept, (err) => assert.unreachable(err.message));
  const listener = new Listener(receiver, (id) => rearms.push(id));
  frontend.listeners.push(listener);
  const dup = (): { fd: number } => ({ fd: createReuseportFd(port, '127.0.0.1') });
  return { port, acceptor, frontend, listener, receiver, ended, released, rearms, dup };
}

/** The port a fresh SO_REUSEPORT socket was bound to (the fd is closed again). */
function portOf(fd: number): number {
  const server = new Server();
  server.listen({ fd });
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** A client whose echo came back: its session is live in the acceptor. */
async function echoing(port: number): Promise<Socket> {
  const c = connect(port, '127.0.0.1');
  c.write('x');
  await once(c, 'data');
  return c;
}

async function ready(listener: Listener, target: { fd: number }): Promise<void> {
  await new Promise<void>((done) => listener.open(target, done));
}

test("a frontend's maxconn: the listener goes full at its share, and ready again, asking for a fresh dup, when a session ends", async () => {
  const t = thread({ maxconn: 2 });
  await ready(t.listener, t.dup());
  const a = await echoing(t.port);
  assert.is(t.listener.state, 'ready');
  const b = await echoing(t.port);
  assert.is(t.acceptor.count, 2);
  assert.is(t.frontend.sessions, 2);
  assert.is(t.listener.state, 'full');
  assert.not.ok(t.receiver.listening, 'a full listener holds no dup');
  assert.equal(t.rearms, []);
  a.destroy();
  await t.released(1);
  assert.equal(t.ended, [1]);
  assert.is(t.listener.state, 'ready');
  assert.equal(t.rearms, [`tcp:127.0.0.1:${t.port}`]);
  t.listener.adopt(t.dup());
  const c = await echoing(t.port);
  assert.is(t.acceptor.count, 2);
  assert.is(t.frontend.accepted, 3);
  b.destroy();
  c.destroy();
  t.acceptor.stop(true);
});

test("the thread's share of global.maxconn limits every frontend: the listener is limited, not full", async () => {
  const t = thread({ globalMaxconn: 1 });
  await ready(t.listener, t.dup());
  const a = await echoing(t.port);
  assert.is(t.acceptor.count, 1);
  assert.is(t.listener.state, 'limited');
  assert.not.ok(t.receiver.listening);
  a.destroy();
  t.acceptor.stop(true);
});

test('stop pauses every listener; a session that ends then no longer asks for a dup', async () => {
  const t = thread({ maxconn: 1 });
  await ready(t.listener, t.dup());
  const a = await echoing(t.port);
  assert.is(t.listener.state, 'full');
  t.acceptor.stop(false);
  assert.is(t.listener.state, 'paused');
  a.destroy();
  await t.released(1);
  assert.is(t.acceptor.count, 0);
  assert.is(t.listener.state, 'paused');
  assert.equal(t.rearms, [], 'a stopping thread asks for no dup');
});

test('kill ends every session at once, and each is released', async () => {
  const t = thread();
  await ready(t.listener, t.dup());
  const clients = [await echoing(t.port), await echoing(t.port), await echoing(t.port)];
  assert.is(t.acceptor.sessions.size, 3);
  t.acceptor.stop(false);
  t.acceptor.kill();
  await t.released(3);
  assert.is(t.acceptor.count, 0);
  assert.is(t.acceptor.sessions.size, 0);
  assert.equal(t.ended, [2, 1, 0]);
  await Promise.all(clients.map((c) => once(c, 'close')));
});

test.run();
