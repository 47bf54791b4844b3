// connectToServer in-process against real loopback ports: one where nothing listens (refused), one
// where a server accepts. Retries, redispatch to another server, and giving up.

import { createServer } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../../src/backend/backend';
import { connectToServer } from '../../src/backend/connect';
import type { Server } from '../../src/backend/server';
import { backendAt, until } from '../helpers/layers';
import { freePort, listen } from '../helpers/net';

interface Outcome {
  /** The server of each attempt, in order. */
  attempts: string[];
  /** "connected to NAME after N retries" or "failed WHO after N retries". */
  outcome: string;
}

/** Runs the connect loop for a session that holds a slot on `first`, as a stream does, until it connects or gives up. */
function connectFrom(backend: Backend, first: string): Promise<Outcome> {
  const server = backend.servers.find((s) => s.name === first)!;
  const attempts: string[] = [];
  return new Promise((resolve) =>
    connectToServer(backend, server, { client: '127.0.0.1' }, {
      attempting: (s) => attempts.push(s.name),
      connected: (s, socket, retries) => {
        socket.destroy();
        resolve({ attempts, outcome: `connected to ${s.name} after ${retries} retries` });
      },
      failed: (who, retries) => resolve({ attempts, outcome: `failed ${who} after ${retries} retries` }),
      clientEnds: () => undefined,
    }),
  );
}

/** A loopback server that accepts, counting its connections. */
async function accepting(): Promise<{ port: number; accepted: () => number; close: () => void }> {
  let accepted = 0;
  const server = createServer((s) => {
    accepted++;
    s.destroy();
  });
  const port = await listen(server);
  return { port, accepted: () => accepted, close: () => server.close() };
}

function failures(backend: Backend): Record<string, number> {
  return Object.fromEntries(backend.servers.map((s) => [s.name, s.failures]));
}

test('redispatch: a refused attempt is retried on another server, which connects', async () => {
  const up = await accepting();
  try {
    const backend = backendAt([['down', await freePort()], ['up', up.port]], { retries: 2, redispatch: true });
    const r = await connectFrom(backend, 'down');
    assert.equal(r.attempts, ['down', 'up']);
    assert.is(r.outcome, 'connected to up after 1 retries');
    assert.equal(failures(backend), { down: 1, up: 0 });
    assert.is(backend.traffic.redispatches, 1, 'the retry went to another server');
    await until(() => up.accepted() === 1, 'the server to accept');
  } finally {
    up.close();
  }
});

test('without redispatch every retry goes to the first server, then the session fails (S)', async () => {
  const up = await accepting();
  try {
    const backend = backendAt([['down', await freePort()], ['up', up.port]], { retries: 2, redispatch: false });
    const r = await connectFrom(backend, 'down');
    assert.equal(r.attempts, ['down', 'down', 'down']);
    assert.is(r.outcome, 'failed S after 2 retries');
    assert.equal(failures(backend), { down: 3, up: 0 });
    assert.is(backend.traffic.redispatches, 0);
    assert.is(up.accepted(), 0);
  } finally {
    up.close();
  }
});

test('every server unreachable: retries try each other server, then the failed ones again, then fail (S)', async () => {
  const backend = backendAt([['d1', await freePort()], ['d2', await freePort()]], { retries: 3, redispatch: true });
  const r = await connectFrom(backend, 'd1');
  assert.is(r.attempts.length, 4);
  assert.equal(r.attempts.slice(0, 2), ['d1', 'd2'], 'the first retry goes to the server not yet tried');
  assert.equal(r.attempts.slice(2).sort(), ['d1', 'd2'], 'then round both again, not only the last one');
  assert.is(r.outcome, 'failed S after 3 retries');
  assert.is(backend.servers.reduce((n, s) => n + s.failures, 0), 4);
});

test('retries 0: one attempt, then the session fails', async () => {
  const up = await accepting();
  try {
    const backend = backendAt([['down', await freePort()], ['up', up.port]], { retries: 0, redispatch: true });
    const r = await connectFrom(backend, 'down');
    assert.equal(r.attempts, ['down']);
    assert.is(r.outcome, 'failed S after 0 retries');
  } finally {
    up.close();
  }
});

test('no usable server left for a retry (passive detection took the only one DOWN): the session fails (P)', async () => {
  const observed: string[] = [];
  const backend = backendAt([['down', await freePort(), { check: { observe: { failures: 1 } } }]], { retries: 3, redispatch: true }, (s: Server, reason) =>
    observed.push(`${s.name}: ${reason}`),
  );
  const r = await connectFrom(backend, 'down');
  assert.equal(r.attempts, ['down']);
  assert.is(r.outcome, 'failed P after 1 retries');
  assert.equal(observed, ['down: 1 connect attempts in a row failed (last: refused or reset)']);
  assert.is(backend.servers[0].usable, false);
});

test('a backup server takes the retry once every normal server has failed the session', async () => {
  const backup = await accepting();
  try {
    const backend = backendAt([['down', await freePort()], ['spare', backup.port, { backup: true }]], { retries: 1, redispatch: true });
    const r = await connectFrom(backend, 'down');
    assert.equal(r.attempts, ['down', 'spare']);
    assert.is(r.outcome, 'connected to spare after 1 retries');
  } finally {
    backup.close();
  }
});

test.run();
