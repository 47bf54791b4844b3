import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HELLO, oneFrontend } from './helpers/configs';
import { sendCommand } from '../src/control/client';
import { reloadWith, runCli, startFerry, writeConfig, type FerryProcess } from './helpers/ferry';
import { exchange, freePort } from './helpers/net';
import { acceptQueues, fdsOnSocket, listeningInodes } from './helpers/proc';
import { until } from './helpers/layers';

type Data = Record<string, any>;
const MIGRATE_REQ = '/proc/sys/net/ipv4/tcp_migrate_req';

function sharded(port: number, shards: unknown, global: object): object {
  return oneFrontend({ address: `127.0.0.1:${port}`, shards }, HELLO, { global });
}

/** The greeting's "pid/group/thread". */
async function greeter(port: number, timeoutMs?: number): Promise<string> {
  const m = /pid (\d+), group (\d+), thread (\d+)/.exec(String((await exchange(port, '', { end: false, timeoutMs })).data));
  if (m === null) throw new Error('no greeting');
  return `${m[1]}/${m[2]}/${m[3]}`;
}

async function listeners(ferry: FerryProcess): Promise<Data[]> {
  return (await sendCommand(ferry.control, 'show listeners')).data as Data[];
}

/** Which listening sockets (by index in `inodes`) process `pid` holds a dup of, and how many dups. */
function dupsOf(pid: number, inodes: number[]): number[] {
  return inodes.map((inode) => fdsOnSocket(pid, inode));
}

test('by-thread shards on 2 groups × 2 threads: one LISTEN socket per shard, all held by the master, each thread a dup of its own only', async () => {
  const port = await freePort();
  const ferry = await startFerry(sharded(port, 'by-thread', { groups: 2, threads: 2 }));
  try {
    const inodes = listeningInodes(port);
    assert.is(inodes.length, 4, 'four sockets listen on the port');
    assert.equal(dupsOf(ferry.pid, inodes), [1, 1, 1, 1], 'the master holds each shard once');
    const workers = ferry.workerPids;
    assert.is(workers.length, 2);
    const held = workers.map((pid) => dupsOf(pid, inodes));
    for (const dups of held) {
      assert.is(dups.filter((n) => n === 1).length, 2, `a worker holds one dup of each of its two threads' shards: ${dups}`);
      assert.is(dups.filter((n) => n === 0).length, 2, `and none of the other group's: ${dups}`);
    }
    assert.equal(held[0].map((n, i) => n + held[1][i]), [1, 1, 1, 1], 'no shard is held by both groups');

    // New connections come from fresh source ports, which the kernel hashes over the shards.
    const seen = new Map<string, number>();
    for (let i = 0; i < 10; i++) for (const g of await Promise.all(Array.from({ length: 20 }, () => greeter(port)))) seen.set(g, (seen.get(g) ?? 0) + 1);
    assert.is(seen.size, 4, `every thread served: ${[...seen.keys()]}`);

    const [l] = await listeners(ferry);
    assert.is(l.shards, 4);
    assert.is(l.threads.length, 4);
    assert.equal(l.threads.map((t: Data) => [t.group, t.thread, t.shard, t.state]).sort(), [[0, 0, 0, 'ready'], [0, 1, 1, 'ready'], [1, 0, 2, 'ready'], [1, 1, 3, 'ready']]);
    assert.is(l.accepted, 200);
    for (const t of l.threads) assert.is(t.accepted, seen.get(`${workers[t.group]}/${t.group}/${t.thread}`), `g${t.group}t${t.thread} counted what it served`);
    const human = await runCli(['ctl', '-s', ferry.control, 'show', 'listeners']);
    assert.match(human.stdout, /g1t1s3:ready=\d+/);
  } finally {
    await ferry.stop();
  }
});

test('by-group shards: each worker holds its group\'s shard, one dup per thread', async () => {
  const port = await freePort();
  const ferry = await startFerry(sharded(port, 'by-group', { groups: 2, threads: 2 }));
  try {
    const inodes = listeningInodes(port);
    assert.is(inodes.length, 2);
    const held = ferry.workerPids.map((pid) => dupsOf(pid, inodes).sort());
    assert.equal(held, [[0, 2], [0, 2]], 'two dups of one shard in each worker');
  } finally {
    await ferry.stop();
  }
});

test('a reload from 4 shards to 2 loses none of the connections queued on the closing shards', async () => {
  const port = await freePort();
  const config = (shards: number): object => sharded(port, shards, { groups: 1, threads: 4, hardStopAfter: '30s' });
  const file = writeConfig(config(4));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  const before = existsSync(MIGRATE_REQ) ? readFileSync(MIGRATE_REQ, 'utf8').trim() : undefined;
  try {
    if (before !== undefined) writeFileSync(MIGRATE_REQ, '0');
    const [old] = ferry.workerPids;
    // The old worker stops accepting: what arrives now stays in the kernel queues of its four shards.
    process.kill(old, 'SIGSTOP');
    const clients = Array.from({ length: 40 }, () => greeter(port, 30_000));
    const queued = (): number[] => [...acceptQueues(port).values()];
    await until(() => queued().reduce((a, b) => a + b, 0) === 40, 'connections queued');
    assert.is(queued().length, 4);
    assert.ok(queued().filter((n) => n > 0).length >= 3, `connections wait on several shards: ${queued()}`);

    // New processes: a reload in place would need the stopped worker to take part.
    writeFileSync(file, JSON.stringify(config(2)));
    const outcome = await sendCommand(ferry.control, 'reload processes');
    assert.ok(outcome.ok, outcome.lines.join('\n'));
    assert.is(readFileSync(MIGRATE_REQ, 'utf8').trim(), '1', 'ferry turned on the migration of queued connections');
    // The old worker never accepted anything: its end closes its dups, then the master closes shards 2 and 3.
    process.kill(old, 'SIGKILL');
    await ferry.waitLog((l) => l.msg === 'shards closed');
    const served = await Promise.all(clients);
    assert.is(served.length, 40);
    const [, fresh] = ferry.workerPids;
    assert.ok(served.every((g) => g.startsWith(`${fresh}/`)), 'every queued client was served by the new generation');
    assert.is(listeningInodes(port).length, 2, 'two shards listen now');
  } finally {
    if (before !== undefined) writeFileSync(MIGRATE_REQ, before);
    await ferry.stop();
  }
});

test('a SIGKILLed worker\'s shard waits for its replacement, which serves it', async () => {
  const port = await freePort();
  const ferry = await startFerry(sharded(port, 'by-group', { groups: 2, threads: 1 }));
  try {
    const [, second] = ferry.workerPids;
    process.kill(second, 'SIGKILL');
    // Connect at once: those hashed to group 1's shard wait in its queue, which the master keeps.
    const served = await Promise.all(Array.from({ length: 24 }, () => greeter(port)));
    await ferry.waitLog((l) => l.msg === 'worker died: restarting it');
    const replacement = ferry.workerPids[2];
    assert.ok(replacement !== undefined);
    assert.ok(served.some((g) => g === `${replacement}/1/0`), `group 1's shard served by the replacement: ${served}`);
    assert.ok(served.every((g) => !g.startsWith(`${second}/`)), 'nothing by the killed one');
    const inodes = listeningInodes(port);
    assert.equal(dupsOf(replacement, inodes).sort(), [0, 1], 'the replacement holds its own shard only');
  } finally {
    await ferry.stop();
  }
});

test('shard counts across reloads: kept sockets stay, added shards join, an unsharded socket cannot grow', async () => {
  const port = await freePort();
  const file = writeConfig(sharded(port, 2, { threads: 4 }));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const first = listeningInodes(port).sort();
    assert.is((await reloadWith(ferry, file, sharded(port, 2, { threads: 4 }))).msg, 'reload done');
    assert.equal(listeningInodes(port).sort(), first, 'the same two sockets');
    assert.is((await reloadWith(ferry, file, sharded(port, 'by-thread', { threads: 4 }))).msg, 'reload done');
    const grown = listeningInodes(port);
    assert.is(grown.length, 4);
    assert.ok(first.every((i) => grown.includes(i)), 'the two kept sockets are among the four');
    assert.is((await reloadWith(ferry, file, sharded(port, 1, { threads: 4 }))).msg, 'reload done');
    await ferry.waitLog((l) => l.msg === 'shards closed');
    const left = listeningInodes(port);
    assert.is(left.length, 1);
    assert.ok(first.includes(left[0]), 'shard 0, one of the first two sockets, is the one left');
    const served = await Promise.all(Array.from({ length: 20 }, () => greeter(port)));
    // Which threads take them is the kernel's choice on a shared queue: every connection is served.
    assert.is(served.length, 20);
    assert.ok(served.every((g) => g.split('/').length >= 3), `every connection greeted by a thread: ${served.join(' ')}`);
  } finally {
    await ferry.stop();
  }
  const plain = await freePort();
  const file2 = writeConfig(oneFrontend(plain, HELLO, { global: { threads: 2 } }));
  const other = await startFerry(undefined, { args: ['-c', file2] });
  try {
    const refused = await reloadWith(other, file2, sharded(plain, 2, { threads: 2 }));
    assert.match(refused.msg, /^reload refused/);
    assert.match(JSON.stringify(refused.problems), /opened without SO_REUSEPORT, so no shard can be added/);
  } finally {
    await other.stop();
  }
});

test('check refuses a sharded Unix bind and a shard count above the threads, naming the key', async () => {
  const file = writeConfig({ global: { threads: 2 }, frontends: { web: { bind: [{ address: 'unix@/tmp/ferry-shard.sock', shards: 2 }, { address: '127.0.0.1:0', shards: 3 }], backend: 'app' } }, backends: { app: HELLO } });
  const r = await runCli(['check', '--no-bind', '-c', file]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /frontends\.web\.bind\[0\]\.shards: "unix@\/tmp\/ferry-shard\.sock" cannot have "shards"/);
  assert.match(r.stderr, /frontends\.web\.bind\[1\]\.shards: 3 shards need 3 threads/);
});

test.run();
