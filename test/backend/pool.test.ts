// A server's pool of idle HTTP connections, in process, with real loopback connections: the hand-over
// of a reload in place (handPoolsOver), where each generation's stack has its own Server and pool.

import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../../src/backend/backend';
import { handPoolsOver, ServerLink } from '../../src/http/server-link';
import { backendAt } from '../helpers/layers';
import { listen } from '../helpers/net';

/** A loopback server that keeps every connection open; `link(b)` connects to it as a link of b's server. */
async function peer(): Promise<{ port: number; link(b: Backend): Promise<ServerLink>; close(): void }> {
  const held: Socket[] = [];
  const server = createServer((s) => held.push(s));
  const port = await listen(server);
  return {
    port,
    link: async (b) => {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      return new ServerLink(socket, b.servers[0]);
    },
    close: () => {
      held.forEach((s) => s.destroy());
      server.close();
    },
  };
}

/** One generation's view of backend "app" with server "s1" at `port`. */
const generation = (port: number): Backend => backendAt([['s1', port]]);

test('a pool handed over gives its idle links to the same server of the next generation, and those parked after', async () => {
  const server = await peer();
  const [older, newer] = [generation(server.port), generation(server.port)];
  try {
    const idle = await server.link(older);
    const busy = await server.link(older);
    assert.ok(older.servers[0].pool.park(idle));
    handPoolsOver([older], new Map([['app', newer]]));
    assert.is(older.servers[0].pool.size, 0);
    assert.is(newer.servers[0].pool.size, 1);
    assert.is(idle.server, newer.servers[0], 'the link belongs to the next generation\'s server');
    // A request under way at the reload parks its link where it began: it goes on too.
    assert.ok(busy.server.pool.park(busy));
    assert.is(busy.server, newer.servers[0]);
    assert.is(newer.servers[0].pool.size, 2);
    assert.is(newer.servers[0].pool.take(), busy, 'the most recently parked first');
  } finally {
    server.close();
  }
});

test('reloads in quick succession: a link parked in the oldest pool reaches the newest, even once a middle one has drained', async () => {
  const server = await peer();
  const [first, second, third] = [generation(server.port), generation(server.port), generation(server.port)];
  try {
    const late = await server.link(first);
    handPoolsOver([first], new Map([['app', second]]));
    handPoolsOver([second], new Map([['app', third]]));
    // The second generation's stack drains before the first one's last request ends.
    second.servers[0].pool.clear();
    assert.ok(late.server.pool.park(late));
    assert.is(late.server, third.servers[0]);
    assert.is(third.servers[0].pool.size, 1, 'not left open in a drained pool');
  } finally {
    server.close();
  }
});

test('a server whose settings change keeps its links: they close with its stack', async () => {
  const server = await peer();
  const older = generation(server.port);
  const changed = backendAt([['s1', server.port, { weight: 3 }]]);
  try {
    const idle = await server.link(older);
    assert.ok(older.servers[0].pool.park(idle));
    handPoolsOver([older], new Map([['app', changed]]));
    assert.is(older.servers[0].pool.size, 1);
    assert.is(changed.servers[0].pool.size, 0);
    older.servers[0].pool.clear();
    assert.ok(idle.socket.destroyed);
  } finally {
    server.close();
  }
});

test.run();
