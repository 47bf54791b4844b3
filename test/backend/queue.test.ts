// Slots and the backend queue of one thread, in-process: who gets a server slot at once, who waits,
// in what order the waiting are served, what a freed slot takes next, and when a wait times out.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../../src/backend/backend';
import type { Waiter } from '../../src/backend/queue';
import type { Server } from '../../src/backend/server';
import { Slot } from '../../src/backend/slot';
import { backendAt } from '../helpers/layers';

/** A session as the backend sees it: it takes the slot it is given, as a stream does, and says what happened. */
class Session implements Waiter {
  readonly slot: Slot;
  readonly pickContext = { client: '127.0.0.1' };
  /** The server it holds a slot on. */
  server: Server | undefined;
  readonly expiredAt: Promise<number>;
  hasExpired = false;
  private expire!: (at: number) => void;

  constructor(
    readonly name: string,
    backend: Backend,
    private readonly log: string[],
    readonly acceptedAt = Date.now(),
  ) {
    this.slot = new Slot(backend, this);
    this.expiredAt = new Promise((resolve) => (this.expire = resolve));
  }

  /** Asks for a slot as a new stream does; `since`: a wait begun in an older generation. */
  start(since?: number): this {
    const server = this.slot.request(since);
    if (server !== undefined) this.served(server);
    return this;
  }

  served(server: Server): void {
    this.slot.hold(server);
    this.server = server;
    this.log.push(`${this.name}@${server.name}`);
  }

  expired(): void {
    this.hasExpired = true;
    this.log.push(`${this.name} expired`);
    this.expire(Date.now());
  }

  /** It ends: its slot goes back to the backend. */
  end(): void {
    this.slot.leaveQueue();
    this.slot.release();
  }
}

function sessions(backend: Backend, log: string[], ...names: string[]): Session[] {
  return names.map((name) => new Session(name, backend, log).start());
}

test('a free slot is taken at once; with every server full the others wait, and each freed slot goes to the one that waited longest', () => {
  const backend = backendAt([['s1', 1, { maxconn: 1 }], ['s2', 2, { maxconn: 1 }]]);
  const [s1, s2] = backend.servers;
  const log: string[] = [];
  const [a, b, c] = sessions(backend, log, 'a', 'b', 'c', 'd', 'e');
  assert.equal(log.sort(), ['a@s1', 'b@s2']);
  assert.is(backend.queue.length, 3);
  assert.is(backend.queue.total, 3);
  assert.equal([s1.active, s2.active], [1, 1]);

  log.length = 0;
  b.end();
  assert.equal(log, ['c@s2'], 'the freed slot on s2 goes to c, which came first');
  a.end();
  c.end();
  assert.equal(log, ['c@s2', 'd@s1', 'e@s2']);
  assert.is(backend.queue.length, 0);
  assert.equal([s1.active, s2.active], [1, 1], 'never more than maxconn');
  assert.equal([s1.fromQueue, s2.fromQueue], [1, 2]);
  assert.is(backend.queue.max, 3);
});

test("a server's maxconn is its number of slots; a server without one never fills", () => {
  const limited = backendAt([['s1', 1, { maxconn: 2 }]]);
  const log: string[] = [];
  const [a] = sessions(limited, log, 'a', 'b', 'c');
  assert.equal(log, ['a@s1', 'b@s1']);
  assert.is(limited.queue.length, 1);
  a.end();
  assert.equal(log, ['a@s1', 'b@s1', 'c@s1']);
  assert.is(limited.servers[0].active, 2);

  const open = backendAt([['s1', 1]]);
  const many = sessions(open, [], ...Array.from({ length: 50 }, (_, i) => `n${i}`));
  assert.ok(many.every((s) => s.server === open.servers[0]));
  assert.is(open.queue.length, 0);
  assert.is(open.servers[0].active, 50);
});

test('a session moved from an older generation waits before those accepted after it', () => {
  const backend = backendAt([['s1', 1, { maxconn: 1 }]]);
  const log: string[] = [];
  const t = Date.now();
  const holder = new Session('holder', backend, log, t).start();
  const early = new Session('early', backend, log, t + 1).start();
  new Session('late', backend, log, t + 3).start();
  // Accepted between the two by the older generation, it reaches this one after both.
  const moved = new Session('moved', backend, log, t + 2).start();
  log.length = 0;
  holder.end();
  early.end();
  moved.end();
  assert.equal(log, ['early@s1', 'moved@s1', 'late@s1']);
});

test('a session that leaves the queue (its client went) takes no slot, and its deadline no longer runs', async () => {
  const backend = backendAt([['s1', 1, { maxconn: 1 }]], { timeout: { queue: '30ms' } });
  const log: string[] = [];
  const [holder, gone, waiter] = sessions(backend, log, 'holder', 'gone', 'waiter');
  gone.end();
  assert.is(backend.queue.length, 1);
  // waiter queued after `gone`, with the same timeout: its deadline comes later.
  await waiter.expiredAt;
  assert.is(gone.hasExpired, false);
  assert.is(backend.queue.timedOut, 1);
  holder.end();
  assert.equal(log, ['holder@s1', 'waiter expired']);
});

test('a wait ends at timeout.queue; a session served before its deadline does not expire', async () => {
  const backend = backendAt([['s1', 1, { maxconn: 1 }]], { timeout: { queue: '40ms' } });
  const log: string[] = [];
  const [holder, first] = sessions(backend, log, 'holder', 'first');
  const queuedAt = first.slot.queuedAt;
  assert.ok(queuedAt > 0);
  const expiredAt = await first.expiredAt;
  assert.ok(expiredAt - queuedAt >= 40, `waited ${expiredAt - queuedAt} ms`);
  assert.is(backend.queue.length, 0);
  assert.is(backend.queue.timedOut, 1);
  assert.is(holder.server?.active, 1, 'the holder keeps its slot');

  const served = new Session('served', backend, log).start();
  holder.end();
  assert.is(served.server?.name, 's1');
  assert.is(served.slot.waiting, false);
  // A later waiter's deadline comes after `served`'s would have.
  const later = new Session('later', backend, log).start();
  await later.expiredAt;
  assert.is(served.hasExpired, false);
  assert.equal(log, ['holder@s1', 'first expired', 'served@s1', 'later expired']);
  assert.is(backend.queue.timedOut, 2);
});

test('a wait begun in an older generation keeps its deadline and its time waited', async () => {
  const backend = backendAt([['s1', 1, { maxconn: 1 }]], { timeout: { queue: '10s' } });
  const log: string[] = [];
  const now = Date.now();
  const [holder, fresh] = sessions(backend, log, 'holder', 'fresh');
  // It began to wait 11 s ago: its 10 s are up already.
  const old = new Session('old', backend, log, now - 11_000).start(now - 11_000);
  assert.ok(old.slot.queueMs(Date.now()) >= 11_000);
  await old.expiredAt;
  assert.is(fresh.hasExpired, false);
  assert.is(fresh.slot.waiting, true);
  holder.end();
  assert.equal(log, ['holder@s1', 'old expired', 'fresh@s1']);
  assert.ok(fresh.slot.waitedMs >= 0 && fresh.slot.waitedMs < 10_000);
  fresh.end();
});

test('a retry on the server it holds keeps its one slot; a server back in service serves the queue in order', () => {
  const backend = backendAt([['s1', 1, { maxconn: 1 }], ['s2', 2, { maxconn: 1 }]]);
  const [s1, s2] = backend.servers;
  const push = (admin: 'ready' | 'maint'): void =>
    backend.settle({ states: [{ backend: 'app', server: 's2', admin, weight: 1 }], health: [], addresses: [] });
  push('maint');
  const log: string[] = [];
  const [a] = sessions(backend, log, 'a', 'b', 'c');
  assert.equal(log, ['a@s1']);
  a.slot.hold(s1);
  assert.is(s1.active, 1, 'the retry on s1 still holds one slot');
  assert.is(backend.queue.length, 2);

  push('ready');
  assert.equal(log, ['a@s1', 'b@s2'], 'the server back in service takes the head of the queue');
  a.end();
  assert.equal(log, ['a@s1', 'b@s2', 'c@s1']);
  assert.equal([s1.active, s2.active], [1, 1]);
});

test.run();
