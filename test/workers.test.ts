import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alive, startFerry } from './helpers/ferry';
import { exchange, freePort } from './helpers/net';
import { fdsOnSocket, listeningInodes } from './helpers/proc';
import { HELLO, oneFrontend } from './helpers/configs';

function helloConfig(port: number, groups: number, threads: number): object {
  return oneFrontend(port, HELLO, { global: { groups, threads } });
}

async function greeter(port: number): Promise<string> {
  const m = /pid (\d+), group (\d+), thread (\d+)/.exec(String((await exchange(port, '', { end: false })).data));
  if (m === null) throw new Error('no greeting');
  return `${m[1]}/${m[2]}/${m[3]}`;
}

test('every thread of every group serves, each over its own dup of the one master socket', async () => {
  const port = await freePort();
  const ferry = await startFerry(helloConfig(port, 2, 2));
  try {
    const seen = new Set<string>();
    // The kernel hands each connection to one of the four polling threads; keep going until all
    // four have answered (bounded).
    for (let i = 0; i < 2000 && seen.size < 4; i++) {
      const batch = await Promise.all(Array.from({ length: 8 }, () => greeter(port)));
      batch.forEach((g) => seen.add(g));
    }
    assert.is(seen.size, 4, `answered by ${[...seen].join(', ')}`);
    const groups = new Set([...seen].map((g) => g.split('/').slice(0, 2).join('/')));
    assert.is(groups.size, 2, 'two worker processes');

    // One socket listens on the port (nobody else bound it), the master holds it, and each worker
    // holds exactly one dup per thread.
    const inodes = listeningInodes(port);
    assert.is(inodes.length, 1, 'a single listening socket on the port');
    assert.is(fdsOnSocket(ferry.pid, inodes[0]), 1, 'the master holds the socket');
    const workers = ferry.workerPids;
    assert.is(workers.length, 2);
    for (const pid of workers) assert.is(fdsOnSocket(pid, inodes[0]), 2, `worker ${pid} holds one dup per thread`);
  } finally {
    await ferry.stop();
  }
});

test('a killed worker is replaced, and clients that arrive meanwhile wait in the kernel queue', async () => {
  const port = await freePort();
  const ferry = await startFerry(helloConfig(port, 1, 1));
  try {
    const [first] = ferry.workerPids;
    process.kill(first, 'SIGKILL');
    // Connect at once: no worker accepts right now, but the master's socket keeps listening.
    const served = await Promise.all(Array.from({ length: 5 }, () => greeter(port)));
    await ferry.waitLog((l) => l.msg === 'worker died: restarting it');
    const [, second] = ferry.workerPids;
    assert.ok(second !== undefined && second !== first, 'a new worker took the slot');
    assert.ok(served.every((g) => g.startsWith(`${second}/`)), `served by the new worker: ${served.join(', ')}`);
    assert.ok(alive(ferry.pid), 'the master outlives its worker');
  } finally {
    await ferry.stop();
  }
});

test('a worker that keeps dying is restarted with growing delays', async () => {
  const port = await freePort();
  const ferry = await startFerry(helloConfig(port, 1, 1));
  try {
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await ferry.waitLog((l) => l.msg === 'worker ready', 15_000, i);
      process.kill(ferry.workerPids[i], 'SIGKILL');
      delays.push((await ferry.waitLog((l) => l.msg === 'worker died: restarting it', 5000, i)).restartInMs as number);
    }
    assert.equal(delays, [100, 200, 400, 800]);
  } finally {
    await ferry.stop();
  }
});

test('workers exit when the master is gone', async () => {
  const port = await freePort();
  const ferry = await startFerry(helloConfig(port, 2, 1));
  const workers = ferry.workerPids;
  process.kill(ferry.pid, 'SIGKILL');
  await ferry.exited;
  const deadline = Date.now() + 5000;
  while (workers.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.is(workers.length, 2, 'both workers had started');
  assert.equal(workers.filter(alive), []);
});

test.run();
