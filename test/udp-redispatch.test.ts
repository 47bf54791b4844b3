import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import type { FrontendSnapshot, ThreadDatagrams } from '../src/proto/snapshot';
import { serversAt } from './helpers/configs';
import { reloadWith, runCli, startFerry, tmpPath, writeConfig, type FerryProcess } from './helpers/ferry';
import { waitUntil } from './helpers/http';
import { freePort } from './helpers/net';
import { processState } from './helpers/proc';
import { udpClient, udpEcho, type Client } from './helpers/udp';

function config(port: number, server: number, groups: number, threads: number): object {
  return {
    global: { groups, threads },
    frontends: { dns: { mode: 'udp', bind: [`udp@127.0.0.1:${port}`], backend: 'app' } },
    backends: { app: { servers: serversAt(['s1', server]) } },
  };
}

/** The UDP frontend's counters from `ferry ctl --json show stat`: the sums and each thread's. */
async function datagramStat(ferry: FerryProcess): Promise<Required<FrontendSnapshot>> {
  const r = await runCli(['ctl', '-s', ferry.control, '--json', 'show', 'stat']);
  assert.is(r.code, 0, r.stderr);
  const frontends = (JSON.parse(r.stdout) as { data: { frontends: FrontendSnapshot[] } }).data.frontends;
  return frontends.find((f) => f.name === 'dns') as Required<FrontendSnapshot>;
}

/** `count` clients each ask `rounds` times, all at once; every reply must come. */
async function converse(port: number, count: number, rounds: number, tag = 'c'): Promise<Client[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => udpClient(port)));
  await Promise.all(
    clients.map(async (c, i) => {
      for (let j = 0; j < rounds; j++) assert.match(await c.ask(`${tag}${i}/${j}`, 5000), new RegExp(`^\\d+:${tag}${i}/${j}$`));
    }),
  );
  return clients;
}

/** No worker died of anything but what the test did to it: no abort, no crash, no unexpected exit. */
function assertNoWorkerDied(ferry: FerryProcess, killed: number[] = []): void {
  const died = ferry.logs.filter((l) => l.msg === 'worker died: restarting it' || l.msg === 'thread exited unexpectedly: the group stops so that the master replaces it');
  assert.equal(died.map((l) => [l.worker, l.signal]), killed.map((pid) => [pid, 'SIGKILL']), 'only the workers the test killed died');
  const exits = ferry.logs.filter((l) => l.msg === 'worker exited');
  assert.ok(exits.every((l) => l.code === 0 && l.signal === null), `every stopped worker exited 0: ${JSON.stringify(exits)}`);
  assert.not.match(ferry.stderr, /Aborted|Assertion|uv_close/, 'no worker aborted');
}

/** The per-thread counters add up: every flow has one owner, everything redispatched arrived. */
function assertOwnership(stat: Required<FrontendSnapshot>, clients: number, threads: number): ThreadDatagrams[] {
  const t = stat.threads;
  assert.is(t.length, threads, 'a breakdown for every thread');
  const sum = (k: keyof ThreadDatagrams): number => t.reduce((n, x) => n + x[k], 0);
  assert.is(sum('flowsTotal'), clients, "the owners' flows are one per client");
  assert.is(sum('redispatched'), sum('fromThreads'), 'every redispatched datagram reached its owner');
  assert.ok(sum('redispatched') > 0, 'some datagrams were read by a thread that does not own their flow');
  assert.is(sum('redispatchDropped'), 0);
  assert.is(stat.datagrams.in, sum('in'));
  return t;
}

async function ownership(groups: number, threads: number): Promise<void> {
  const server = await udpEcho();
  let ferry: FerryProcess | undefined;
  try {
    const port = await freePort();
    ferry = await startFerry(config(port, server.port, groups, threads));
    const clients = await converse(port, 40, 10);
    clients.forEach((c) => c.close());
    for (let i = 0; i < 40; i++) assert.is(server.byClient.get(`c${i}`)?.size, 1, `client ${i} reached the server from one upstream port`);
    const stat = await datagramStat(ferry);
    assert.is(stat.datagrams.in, 400);
    assert.is(stat.datagrams.out, 400);
    const t = assertOwnership(stat, 40, groups * threads);
    assert.ok(t.filter((x) => x.flowsTotal > 0).length > 1, 'flows spread over several owners');
    if (groups === 1) assert.ok(t.every((x) => x.group === 0));
  } finally {
    // Closed first: an open socket would keep the test process alive after a failure.
    server.close();
    if (ferry !== undefined) {
      assert.equal(await ferry.stop(), { code: 0, signal: null }, 'stop ends ferry cleanly');
      assertNoWorkerDied(ferry);
    }
  }
}

test('2 groups x 2 threads: each flow has one owner, over MessagePorts and across groups', () => ownership(2, 2));
test('1 group x 2 threads: redispatch over a MessagePort only', () => ownership(1, 2));
test('2 groups x 1 thread: redispatch through the groups\' Unix datagram sockets only', () => ownership(2, 1));

/** Clients that ask again and again until stopped; each ask counts whether its reply came. */
function keepAsking(clients: Client[]): { stop(): Promise<{ answered: number; unanswered: number }> } {
  let asking = true;
  let answered = 0;
  let unanswered = 0;
  const loops = clients.map(async (c, i) => {
    for (let j = 0; asking; j++) {
      const reply = await c.ask(`k${i}/${j}`, 300).catch(() => '');
      if (reply.endsWith(`:k${i}/${j}`)) answered++;
      else unanswered++;
    }
  });
  return {
    stop: async () => {
      asking = false;
      await Promise.all(loops);
      return { answered, unanswered };
    },
  };
}

test('SIGKILL of one group while the other keeps redispatching to it: datagrams for it count as dropped, the master restarts it, every client is served again', async () => {
  const server = await udpEcho();
  const port = await freePort();
  const ferry = await startFerry(config(port, server.port, 2, 2));
  const clients = await converse(port, 24, 2, 'k');
  // Flows are the clients' and stay with their owners: group 0 reads datagrams of group 1's flows too.
  const owned = (await datagramStat(ferry)).threads.filter((t) => t.group === 1).reduce((n, t) => n + t.flowsTotal, 0);
  assert.ok(owned > 0, 'group 1 owns some of the flows');
  const load = keepAsking(clients);
  let victim = 0;
  try {
    victim = ferry.workerPids[1];
    // The master stopped cannot restart the group: it stays down until group 0 has found its socket
    // dead, however long that takes. Otherwise the restart (100 ms, then a fork) can come before any
    // datagram of group 1's flows, those read while it was dying being lost with it.
    process.kill(ferry.pid, 'SIGSTOP');
    await waitUntil(() => processState(ferry.pid) === 'T', 10_000, 'the master to stop');
    process.kill(victim, 'SIGKILL');
    await ferry.waitLog((l) => l.msg.startsWith('redispatch to another group failed') && l.group === 0 && l.to === 1, 15_000);
    process.kill(ferry.pid, 'SIGCONT');
    await ferry.waitLog((l) => l.msg === 'worker ready' && l.group === 1 && l.worker !== victim, 15_000);
    const { answered } = await load.stop();
    assert.ok(answered > 0);
    await Promise.all(clients.map((c, i) => c.askUntilAnswered(`again${i}`, 10_000)));
    const stat = await datagramStat(ferry);
    const group0 = stat.threads.filter((t) => t.group === 0);
    assert.ok(group0.reduce((n, t) => n + t.redispatchDropped, 0) > 0, 'datagrams for the dead group were counted as dropped');
  } finally {
    // A master left stopped by a failure would never stop.
    process.kill(ferry.pid, 'SIGCONT');
    await load.stop();
    clients.forEach((c) => c.close());
    assert.equal(await ferry.stop(), { code: 0, signal: null });
    assertNoWorkerDied(ferry, [victim]);
    server.close();
  }
});

test('reloads under redispatch traffic: the new generation serves, the old one exits cleanly, and stop ends every worker without an abort', async () => {
  const server = await udpEcho();
  const port = await freePort();
  const file = writeConfig(config(port, server.port, 2, 2));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  const clients = await converse(port, 16, 2, 'r');
  const load = keepAsking(clients);
  try {
    for (let n = 0; n < 2; n++) {
      assert.is((await reloadWith(ferry, file, config(port, server.port, 2, 2))).msg, 'reload done');
      await ferry.waitLog((l) => l.msg === 'old generation exited', 15_000, n);
    }
    assert.ok((await load.stop()).answered > 0);
    await Promise.all(clients.map((c, i) => c.askUntilAnswered(`after${i}`, 10_000)));
    const stat = await datagramStat(ferry);
    assert.ok(stat.threads.every((t) => t.generation === 3), 'only the last generation is left');
    assert.is(stat.threads.reduce((n, t) => n + t.redispatched - t.fromThreads, 0), 0);
  } finally {
    await load.stop();
    clients.forEach((c) => c.close());
    assert.equal(await ferry.stop(), { code: 0, signal: null });
    assertNoWorkerDied(ferry);
    server.close();
  }
});

test('a runtime directory too long for Unix socket paths fails start, saying what to do', async () => {
  const long = `/tmp/${'x'.repeat(100)}`;
  const r = await runCli(['start', '-c', writeConfig(config(await freePort(), 53, 2, 1)), '--set', `global.masterSocket=${tmpPath('long.sock')}`], { RUNTIME_DIRECTORY: long });
  assert.is(r.code, 1);
  assert.match(r.stderr, `the directory for the groups' datagram sockets, "${long}/ferry-XXXXXX", is too long`);
  assert.match(r.stderr, 'set RUNTIME_DIRECTORY or TMPDIR to a shorter directory');
});

test('show stat has the redispatch columns', async () => {
  const server = await udpEcho();
  const port = await freePort();
  const ferry = await startFerry(config(port, server.port, 1, 2));
  try {
    (await converse(port, 4, 2)).forEach((c) => c.close());
    const reply = await sendCommand(ferry.control, 'show stat');
    assert.ok(reply.lines.some((l) => /udp frontend.*redispatched.*from threads.*redispatch dropped/.test(l)), reply.lines.join('\n'));
  } finally {
    assert.equal(await ferry.stop(), { code: 0, signal: null });
    server.close();
  }
});

test.run();
