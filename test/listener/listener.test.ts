// A thread's Listener over a real loopback socket, in this process: the test plays the master,
// which holds the socket and hands the thread a dup at start and whenever it asks again (rearm).

import { connect, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Listener } from '../../src/listener/listener';
import type { ListenerState } from '../../src/proto/snapshot';
import { Receiver } from '../../src/listener/receiver';
import { HELLO } from '../helpers/configs';
import { dup } from '../helpers/dup';
import { masterSocket, next, until, webAndApp } from '../helpers/layers';
import { acceptQueue, fdsOnSocket, listeningInodes } from '../helpers/proc';

interface Thread {
  listener: Listener;
  receiver: Receiver;
  port: number;
  /** The listener's state before it was opened. */
  initial: ListenerState;
  /** Connections the thread accepted, in order. */
  accepted: Socket[];
  /** The dups the thread asked the master for, by receiver id. */
  rearms: string[];
  /** Errors of the receiver's server. */
  errors: string[];
  /** The master hands the thread a dup of its socket. */
  handDup(): Promise<void>;
  /** fds of this process on the listening socket: the master's, and the thread's dup while it holds one. */
  fds(): number;
  /** A client that the kernel connected (to the accept queue, or accepted). */
  client(): Promise<Socket>;
  close(): void;
}

async function thread(): Promise<Thread> {
  const master = masterSocket();
  const { frontend } = webAndApp(HELLO, { bind: [`127.0.0.1:${master.port}`] });
  const accepted: Socket[] = [];
  const clients: Socket[] = [];
  const rearms: string[] = [];
  const errors: string[] = [];
  const receiver = new Receiver(frontend.bind[0], frontend.backlog, (s) => accepted.push(s), (err) => errors.push(err.message));
  const listener = new Listener(receiver, (id) => rearms.push(id));
  const initial = listener.state;
  const first = await dup(master.handle);
  await new Promise<void>((resolve) => listener.open(first, resolve));
  const [inode] = listeningInodes(master.port);
  return {
    listener,
    receiver,
    port: master.port,
    initial,
    accepted,
    rearms,
    errors,
    handDup: async () => listener.adopt(await dup(master.handle)),
    fds: () => fdsOnSocket(process.pid, inode),
    client: async () => {
      const socket = connect(master.port, '127.0.0.1');
      clients.push(socket);
      await next(socket, 'connect');
      return socket;
    },
    close: () => {
      for (const s of [...clients, ...accepted]) s.destroy();
      receiver.close();
      master.handle.close();
    },
  };
}

/**
 * Lets the event loop poll once more: a thread that held a dup would accept a connection the kernel
 * already queued in that poll. setImmediate runs after the poll phase that follows.
 */
async function polled(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

test('a listener starts paused, accepts once opened on its first dup, and asks for nothing', async () => {
  const t = await thread();
  try {
    assert.is(t.initial, 'paused');
    assert.is(t.listener.state, 'ready');
    assert.is(t.fds(), 2, 'the master holds the socket, the thread its dup');
    await t.client();
    await until(() => t.accepted.length === 1, 'the connection to be accepted');
    assert.is(t.receiver.accepted, 1);
    assert.equal(t.rearms, []);
    assert.equal(t.errors, []);
  } finally {
    t.close();
  }
});

for (const state of ['full', 'limited'] as const) {
  test(`${state}: the thread closes its dup, connections wait in the kernel's accept queue, and resume rearms to accept them`, async () => {
    const t = await thread();
    try {
      await t.client();
      await until(() => t.accepted.length === 1, 'the first connection to be accepted');

      t.listener.suspend(state);
      assert.is(t.listener.state, state);
      assert.is(t.receiver.listening, false);
      assert.is(t.fds(), 1, 'only the master holds the socket');
      await Promise.all([t.client(), t.client(), t.client()]);
      await until(() => acceptQueue(t.port) === 3, 'three connections in the accept queue');
      await polled();
      assert.is(t.accepted.length, 1, 'nothing accepted while suspended');
      assert.is(acceptQueue(t.port), 3, 'they still wait in the kernel');

      // It reaches the limit again and leaves it before the dup it asked for comes: one dup is enough.
      t.listener.resume();
      t.listener.suspend(state);
      t.listener.resume();
      assert.is(t.listener.state, 'ready');
      assert.equal(t.rearms, [t.listener.id], 'one dup asked for while one is on its way');
      await t.handDup();
      await until(() => t.accepted.length === 4, 'the waiting connections to be accepted');
      assert.is(acceptQueue(t.port), 0);
      assert.is(t.fds(), 2);
      assert.is(t.receiver.accepted, 4);
      assert.equal(t.errors, []);
    } finally {
      t.close();
    }
  });
}

test('paused outranks a limit: it stays paused, and resume does not rearm it', async () => {
  const t = await thread();
  try {
    t.listener.suspend('paused');
    t.listener.suspend('full');
    assert.is(t.listener.state, 'paused');
    t.listener.resume();
    assert.is(t.listener.state, 'paused');
    assert.equal(t.rearms, []);
    assert.is(t.fds(), 1);
    await t.client();
    await until(() => acceptQueue(t.port) === 1, 'the connection in the accept queue');
    await polled();
    assert.is(t.accepted.length, 0);
    assert.equal(t.errors, []);
  } finally {
    t.close();
  }
});

test('a dup that comes after the limit was reached again is closed at once; the next resume asks again', async () => {
  const t = await thread();
  try {
    t.listener.suspend('limited');
    t.listener.resume();
    assert.equal(t.rearms, [t.listener.id]);
    const states: ListenerState[] = [];
    t.listener.suspend('full');
    states.push(t.listener.state);
    await t.handDup();
    states.push(t.listener.state);
    assert.equal(states, ['full', 'full']);
    assert.is(t.receiver.listening, false);
    assert.is(t.fds(), 1, 'the late dup is closed');
    await t.client();
    await until(() => acceptQueue(t.port) === 1, 'the connection in the accept queue');
    await polled();
    assert.is(t.accepted.length, 0);

    t.listener.resume();
    assert.equal(t.rearms, [t.listener.id, t.listener.id]);
    await t.handDup();
    await until(() => t.accepted.length === 1, 'the waiting connection to be accepted');
    assert.equal(t.errors, []);
  } finally {
    t.close();
  }
});

test.run();
