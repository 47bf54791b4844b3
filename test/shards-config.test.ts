import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { shardCount, shardOf } from '../src/config/shards';
import { validateConfig } from '../src/config/validate';

function withBind(bind: unknown, global: object = {}): object {
  return { global, frontends: { web: { bind: [bind], backend: 'app' } }, backends: { app: { service: 'hello' } } };
}

function problemsOf(raw: object): string[] {
  const { config, problems } = validateConfig(raw);
  assert.is(config, undefined, 'the configuration is refused');
  return problems;
}

function shardsOf(raw: object): (number | undefined)[] {
  const { config, problems } = validateConfig(raw);
  assert.equal(problems, []);
  return Object.values(config!.frontends).flatMap((f) => f.bind.map((b) => b.shards));
}

test('shardOf: by-thread gives each thread its own shard, by-group each group its own, a count splits threads into runs', () => {
  const all = (count: number, groups: number, threads: number): number[] =>
    Array.from({ length: groups * threads }, (_, i) => shardOf(count, groups, threads, Math.floor(i / threads), i % threads));
  assert.equal(all(shardCount('by-thread', 2, 2), 2, 2), [0, 1, 2, 3]);
  assert.equal(all(shardCount('by-group', 2, 2), 2, 2), [0, 0, 1, 1]);
  assert.equal(all(shardCount('by-group', 3, 1), 3, 1), [0, 1, 2]);
  assert.equal(all(2, 1, 4), [0, 0, 1, 1]);
  assert.equal(all(3, 1, 4), [0, 0, 1, 2]);
  assert.equal(all(1, 2, 2), [0, 0, 0, 0]);
  // Every shard has at least one thread whenever the count fits the threads.
  for (let count = 1; count <= 6; count++) assert.is(new Set(all(count, 2, 3)).size, count, `${count} shards over 2 × 3 threads`);
});

test('shards: resolved per bind from the bind, else global.shards; unshardable binds keep one socket under global.shards', () => {
  assert.equal(shardsOf(withBind('127.0.0.1:8080')), [undefined], 'one shard by default');
  assert.equal(shardsOf(withBind({ address: '127.0.0.1:8080', shards: 'by-thread' }, { groups: 2, threads: 2 })), [4]);
  assert.equal(shardsOf(withBind({ address: '127.0.0.1:8080', shards: 'by-group' }, { groups: 2, threads: 2 })), [2]);
  assert.equal(shardsOf(withBind({ address: '127.0.0.1:8080', shards: 3 }, { groups: 1, threads: 4 })), [3]);
  assert.equal(shardsOf(withBind({ address: '127.0.0.1:8080', shards: 1 }, { threads: 4, shards: 'by-thread' })), [undefined], 'the bind\'s own 1 wins');
  assert.equal(shardsOf(withBind('127.0.0.1:8080', { threads: 4, shards: 'by-thread' })), [4]);
  assert.equal(shardsOf(withBind('unix@/tmp/ferry-shards.sock', { threads: 4, shards: 'by-thread' })), [undefined], 'global.shards passes a Unix bind by');
});

test('shards: bad values are refused with the key path', () => {
  for (const bad of ['many', 0, -1, 2.5, true]) {
    const [p, ...rest] = problemsOf(withBind({ address: '127.0.0.1:8080', shards: bad }));
    assert.is(rest.length, 0, `one problem for ${JSON.stringify(bad)}: ${rest}`);
    assert.match(p, /^frontends\.web\.bind\[0\]\.shards: expected "by-thread", "by-group" or a positive integer/);
  }
  const [g] = problemsOf(withBind('127.0.0.1:8080', { shards: 'per-thread' }));
  assert.match(g, /^global\.shards: expected "by-thread", "by-group" or a positive integer such as 2, found "per-thread"/);
  const [over] = problemsOf(withBind({ address: '127.0.0.1:8080', shards: 5 }, { groups: 2, threads: 2 }));
  assert.match(over, /^frontends\.web\.bind\[0\]\.shards: 5 shards need 5 threads .* 2 × 2 = 4; lower "shards" or add threads/);
  const [gover] = problemsOf(withBind('127.0.0.1:8080', { shards: 3 }));
  assert.match(gover, /^global\.shards: 3 shards need 3 threads/);
});

test('shards: Unix, abstract, inherited and UDP binds cannot be sharded, nor v6only ones', () => {
  const cases: [object, RegExp][] = [
    [{ address: 'unix@/tmp/ferry-shards.sock', shards: 2 }, /Unix and abstract sockets have no SO_REUSEPORT groups/],
    [{ address: 'abns@ferry-shards', shards: 'by-thread' }, /Unix and abstract sockets/],
    [{ address: 'fd@web', shards: 'by-group' }, /inherited \(socket-activated\) socket is one socket/],
    [{ address: ':::8080', v6only: true, shards: 2 }, /"shards" and "v6only" cannot be combined/],
  ];
  for (const [bind, why] of cases) {
    const problems = problemsOf(withBind(bind, { threads: 2 }));
    assert.is(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /^frontends\.web\.bind\[0\]\.shards: /);
    assert.match(problems[0], why);
  }
  const udp = problemsOf({ global: { threads: 2 }, frontends: { dns: { mode: 'udp', bind: [{ address: 'udp@127.0.0.1:5353', shards: 2 }], backend: 'app' } }, backends: { app: { servers: { s: { address: '127.0.0.1:53' } } } } });
  assert.is(udp.length, 1, udp.join('\n'));
  assert.match(udp[0], /^frontends\.dns\.bind\[0\]\.shards: "udp@127\.0\.0\.1:5353" cannot have "shards": UDP binds are not sharded/);
});

test.run();
