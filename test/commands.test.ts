import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { SeqpacketSocket } from 'node-unix-socket';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import type { Reply } from '../src/proto/control';
import { destroyLater } from '../src/control/seqpacket';
import { HELLO, oneFrontend, serversAt } from './helpers/configs';
import { rawRequest } from './helpers/control';
import { alive, runCli, startFerry, writeConfig } from './helpers/ferry';
import { exchange, freePort, holdingServer, namedServer, openClient, tally, whoAnswers, closeAll } from './helpers/net';

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function data(control: string, command: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const reply = await sendCommand(control, command);
  assert.ok(reply.ok, `${command}: ${reply.lines.join('\n')}`);
  return reply.data as Data;
}

test('show stat, listeners, proc and info sum every thread of every worker; @N and @!PID ask one', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { servers: serversAt(['a', a.port], ['b', b.port]) }, { global: { groups: 2, threads: 2 } }));
  try {
    for (let i = 0; i < 20; i++) await whoAnswers(port);
    const stat = await data(ferry.control, 'show stat');
    assert.is(stat.frontends.length, 1);
    const { traffic, ...web } = stat.frontends[0];
    assert.equal(web, { name: 'web', current: 0, total: 20 });
    assert.is(traffic.bytesOut, 40, 'the bytes of the 20 sessions that ended, summed over the threads');
    assert.is(stat.backends[0].total, 20);
    const servers = Object.fromEntries(stat.backends[0].servers.map((s: Data) => [s.name, s]));
    assert.is(servers.a.total, a.accepted);
    assert.is(servers.b.total, b.accepted);
    assert.is(servers.a.total + servers.b.total, 20);

    const [listener] = await data(ferry.control, 'show listeners');
    assert.is(listener.frontend, 'web');
    assert.is(listener.address, `127.0.0.1:${port}`);
    assert.is(listener.origin, 'bound');
    assert.is(listener.accepted, 20);
    assert.is(listener.threads.length, 4);
    assert.equal(listener.threads.map((t: Data) => `g${t.group}t${t.thread}s${t.shard}:${t.state}`).sort(), ['g0t0s0:ready', 'g0t1s0:ready', 'g1t0s0:ready', 'g1t1s0:ready']);
    assert.is(listener.threads.reduce((n: number, t: Data) => n + t.accepted, 0), 20, 'the threads\' accepted add up to the receiver\'s');
    assert.is(listener.shards, 1);
    assert.type(listener.fd, 'number');

    const proc = await data(ferry.control, 'show proc');
    assert.is(proc.master.pid, ferry.pid);
    assert.equal(proc.workers.map((w: Data) => w.pid).sort(), [...ferry.workerPids].sort());
    assert.equal(proc.workers.map((w: Data) => [w.at, w.role, w.generation, w.state]), [['@1', 'current', 1, 'ready'], ['@2', 'current', 1, 'ready']]);

    const info = await data(ferry.control, 'show info');
    assert.is(info.generation, 1);
    assert.is(info.groups, 2);
    assert.is(info.threads, 2);
    assert.is(info.sessions, 0);

    const one = await data(ferry.control, '@1 show stat');
    const two = await data(ferry.control, `@!${proc.workers[1].pid} show stat`);
    assert.is(one.frontends[0].total + two.frontends[0].total, 20);
    assert.is((await data(ferry.control, '@2 show listeners'))[0].threads.length, 2);

    const human = await runCli(['ctl', '-s', ferry.control, 'show', 'stat']);
    assert.is(human.code, 0, human.stderr);
    assert.match(human.stdout, /server\s+app\/a\s+UP\s+1\s+0\s+\d+\s+0\s+127\.0\.0\.1:\d+/);
    const wrong = await runCli(['ctl', '-s', ferry.control, '@3', 'show', 'stat']);
    assert.is(wrong.code, 1);
    assert.match(wrong.stderr, /no worker @3: the serving generation has @1 to @2/);
    assert.match((await sendCommand(ferry.control, '@1 reload')).lines[0], /"reload" applies to the whole service: send it without @1/);
    assert.match((await sendCommand(ferry.control, '@!1 show stat')).lines[0], /no worker has pid 1/);
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('show sess counts live sessions and lists the oldest first, handed-over ones with their history', async () => {
  const server = await holdingServer('held');
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { servers: serversAt(['held', server.port]) }, { global: { threads: 2 } }));
  const clients = [];
  try {
    for (let i = 0; i < 3; i++) {
      const c = await openClient(port);
      await c.waitFor('held');
      clients.push(c);
    }
    const sess = await data(ferry.control, 'show sess');
    assert.is(sess.count, 3);
    assert.equal(sess.oldest.map((s: Data) => s.client), clients.map((c) => `127.0.0.1:${c.socket.localPort}`));
    assert.ok(sess.oldest.every((s: Data) => s.backend === 'app' && s.server === 'held' && s.generation === 1));

    assert.ok((await sendCommand(ferry.control, 'reload')).ok);
    await ferry.waitMsg('old generation exited');
    // The old generation exits once the sockets have left it; the new threads adopt them just after.
    let after = await data(ferry.control, 'show sess');
    for (let asked = 1; after.count < 3 && asked < 50; asked++) after = await data(ferry.control, 'show sess');
    assert.is(after.count, 3);
    assert.ok(after.oldest.every((s: Data) => s.generation === 2 && s.generations.join() === '1'), JSON.stringify(after.oldest));
    const text = await runCli(['ctl', '-s', ferry.control, 'show', 'sess']);
    assert.match(text.stdout, /^3 live sessions over 2 threads/);
  } finally {
    for (const c of clients) c.socket.destroy();
    await ferry.stop();
    await server.close();
  }
});

test('disable, enable and set weight reach every worker, survive a reload and a restarted worker, and yield to a changed configuration', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const config = (bWeight: number): object => oneFrontend(port, { servers: serversAt(['a', a.port], ['b', b.port, bWeight]) });
  const file = writeConfig(config(1));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    assert.ok((await sendCommand(ferry.control, 'disable server app/a')).ok);
    assert.equal(await tally(port, 6), { b: 6 });
    assert.equal(await sendCommand(ferry.control, 'enable server app/a'), { ok: true, lines: ['server app/a: UP, weight 1'], data: { backend: 'app', server: 'a', admin: 'ready', weight: 1, state: 'UP' } });
    assert.ok((await sendCommand(ferry.control, 'set weight app/b 3')).ok);
    assert.equal(await tally(port, 8), { a: 2, b: 6 });

    assert.ok((await sendCommand(ferry.control, 'reload')).ok);
    await ferry.waitMsg('old generation exited');
    assert.equal(await tally(port, 8), { a: 2, b: 6 });

    const worker = ferry.workerPids.at(-1)!;
    process.kill(worker, 'SIGKILL');
    await ferry.until(() => ferry.logs.some((l) => l.msg === 'worker ready' && l.worker !== worker && l.generation === 2 && ferry.workerPids.at(-1) === l.worker), 10_000, 'the restarted worker ready');
    assert.equal(await tally(port, 8), { a: 2, b: 6 });

    writeFileSync(file, JSON.stringify(config(2)));
    assert.ok((await sendCommand(ferry.control, 'reload')).ok);
    const dropped = await ferry.waitMsg('server settings dropped: the new configuration changes or removes that server');
    assert.is(dropped.server, 'app/b');
    await ferry.waitMsg('old generation exited');
    assert.equal(await tally(port, 9), { a: 3, b: 6 });
    const stat = await data(ferry.control, 'show stat');
    assert.equal(stat.backends[0].servers.map((s: Data) => [s.name, s.state, s.weight]), [['a', 'UP', 1], ['b', 'UP', 2]]);
    assert.ok(alive(worker) === false);
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('a server command replies once every worker thread has the setting: not while a worker is stopped, and the next connections obey it', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { servers: serversAt(['a', a.port], ['b', b.port]) }, { global: { threads: 2 } }));
  const [worker] = ferry.workerPids;
  try {
    process.kill(worker, 'SIGSTOP');
    let replied = false;
    const reply = sendCommand(ferry.control, 'disable server app/a').then((r) => ((replied = true), r));
    await ferry.waitMsg('server state changed');
    // The master has made the change; its reply waits on the stopped worker (for up to 2 s).
    await new Promise((r) => setTimeout(r, 300));
    assert.is(replied, false, 'no reply while a worker has not applied the setting');
    process.kill(worker, 'SIGCONT');
    assert.ok((await reply).ok);
    assert.equal(await tally(port, 6), { b: 6 }, 'every connection after the reply avoids a');
  } finally {
    process.kill(worker, 'SIGCONT');
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('server commands name what is wrong', async () => {
  const port = await freePort();
  const config = oneFrontend(port, { servers: serversAt(['s1', 1]) });
  const ferry = await startFerry({ ...config, backends: { ...(config as Data).backends, hello: HELLO } });
  try {
    const lines = async (c: string): Promise<string> => {
      const r: Reply = await sendCommand(ferry.control, c);
      assert.not.ok(r.ok, c);
      return r.lines.join('\n');
    };
    assert.match(await lines('disable server nope/s1'), /no backend "nope" \(backends: app, hello\)/);
    assert.match(await lines('disable server app/s2'), /backend "app" has no server "s2" \(servers: s1\)/);
    assert.match(await lines('disable server hello/x'), /backend "hello" has no server "x" \(it is a built-in service\)/);
    assert.match(await lines('disable server app'), /expected BACKEND\/SERVER, such as "app\/s1"; found "app"/);
    assert.match(await lines('set weight app/s1 257'), /weight must be an integer from 0 to 256, or a percentage of the configured weight such as "50%"; found "257"/);
    assert.match(await lines('set weight app/s1 -1'), /weight must be an integer from 0 to 256/);
    assert.match(await lines('set weight app/s1'), /usage: set weight BACKEND\/SERVER WEIGHT/);
    assert.match(await lines('show stat now'), /usage: show stat/);
  } finally {
    await ferry.stop();
  }
});

test('random bytes, oversized packets and silent or vanishing clients leave the master serving', async () => {
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, HELLO));
  try {
    const silent = new SeqpacketSocket();
    await new Promise<void>((resolve) => silent.connect(ferry.control, resolve));
    for (let i = 0; i < 200; i++) {
      const packet = randomBytes(1 + Math.floor(Math.random() * 2000));
      // Half of them look like msgpack maps, to reach the decoder.
      if (i % 2 === 0) packet[0] = 0x80 + (i % 16);
      const reply = await rawRequest(ferry.control, packet);
      assert.ok(reply !== undefined && reply.length > 0, `a reply to packet ${i}`);
    }
    assert.match(String(await rawRequest(ferry.control, Buffer.alloc(100_000, 'a'))), /request too large \(100000 bytes, at most 65536\)/);
    for (let i = 0; i < 20; i++) {
      const gone = new SeqpacketSocket();
      gone.on('error', () => {});
      await new Promise<void>((resolve) => gone.connect(ferry.control, resolve));
      gone.write(Buffer.from('show stat\n'));
      destroyLater(gone);
    }
    const help = await sendCommand(ferry.control, 'help');
    assert.ok(help.ok);
    assert.match(String((await exchange(port, '', { end: false })).data), /hello/);
    assert.ok(alive(ferry.pid));
    destroyLater(silent);
  } finally {
    await ferry.stop();
  }
});

test.run();
