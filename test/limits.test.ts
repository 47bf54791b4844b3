import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFerry } from './helpers/ferry';
import { exchange, freePort, openClient } from './helpers/net';
import { ECHO, oneFrontend } from './helpers/configs';

function echoConfig(port: number, frontend: object, threads = 1): object {
  return oneFrontend(port, ECHO, { global: { threads }, frontend });
}

for (const threads of [1, 2]) {
  test(`past maxconn, clients wait in the kernel queue and are served when a slot frees (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const port = await freePort();
    // maxconn is split among threads: with 2 threads, each takes 1 session, then waits for a fresh dup.
    const ferry = await startFerry(echoConfig(port, { maxconn: 2 }, threads));
    try {
      const a = await openClient(port);
      a.socket.write('a');
      await a.waitFor('a');
      const b = await openClient(port);
      b.socket.write('b');
      await b.waitFor('b');
      // The third connection completes its handshake in the kernel, but nobody accepts it yet.
      const c = await openClient(port);
      c.socket.write('c');
      const servedEarly = await c.waitFor('c', 300).then(() => true, () => false);
      assert.not.ok(servedEarly, 'served while the frontend was full');
      a.socket.end();
      await a.closed;
      await c.waitFor('c');
      assert.is(c.received(), 'c');
      for (const x of [b, c]) {
        x.socket.end();
        const { error } = await x.closed;
        assert.is(error, undefined, 'nobody was refused or reset');
      }
    } finally {
      await ferry.stop();
    }
  });
}

test('an idle client is closed at timeout.client', async () => {
  const port = await freePort();
  const ferry = await startFerry(echoConfig(port, { timeout: { client: '200ms' } }));
  try {
    // Taken before connecting: ferry's timer starts at its accept, after this, whenever the 'connect' event comes here.
    const started = Date.now();
    const c = await openClient(port);
    await c.closed;
    assert.ok(Date.now() - started >= 150, `closed after ${Date.now() - started} ms`);
    assert.is((await ferry.waitMsg('session')).termination, 'cD');
  } finally {
    await ferry.stop();
  }
});

test('running out of file descriptors drops connections, never the worker', async () => {
  const port = await freePort();
  const ferry = await startFerry(echoConfig(port, {}), { fdLimit: 64 });
  try {
    const [worker] = ferry.workerPids;
    // More clients than the worker has fds: accept(2) fails with EMFILE, and libuv drops the
    // connections it cannot take.
    const crowd = await Promise.all(Array.from({ length: 100 }, () => openClient(port)));
    await Promise.race(crowd.map((c) => c.closed));
    for (const c of crowd) c.socket.destroy();
    await Promise.all(crowd.map((c) => c.closed));
    // The worker closes its side of the crowd's connections as it reads their resets; until it has,
    // it may still be out of fds and drop a newcomer the same way. It serves one again soon after.
    let echoed = '';
    for (let attempt = 0; attempt < 100 && echoed !== 'after'; attempt++) {
      echoed = String((await exchange(port, 'after').catch(() => ({ data: '' }))).data);
    }
    assert.is(echoed, 'after');
    assert.equal(ferry.workerPids, [worker], 'the same worker, never restarted');
  } finally {
    await ferry.stop();
  }
});

test.run();
