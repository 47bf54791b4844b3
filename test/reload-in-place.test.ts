// A reload in place: the running workers start the next generation's stacks beside their own and
// take the sessions over in memory; new worker processes only where the configuration needs them
// (groups, threads, run-as, UDP) or where the operator asks (`reload processes`, SIGUSR2).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import { reloadWith as reload, startFerry, writeConfig } from './helpers/ferry';
import { echoServer, freePort, generationAt, keepAsking, openClient } from './helpers/net';
import { ECHO, HELLO, oneFrontend, serversAt } from './helpers/configs';
import { httpBackend } from './helpers/http';
import type { FerryProcess } from './helpers/ferry';
import type { ThreadHolds } from '../src/proto/snapshot';

function proxyConfig(port: number, server: number, global: object = {}): object {
  return oneFrontend(port, { servers: serversAt(['s', server]) }, { global: { hardStopAfter: '20s', ...global } });
}

test('a reload in place keeps the worker processes, and a tunnel goes on in the next generation with every byte in order', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const file = writeConfig(proxyConfig(port, echo.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const pids = [...ferry.workerPids];
    assert.is(pids.length, 1);
    const c = await openClient(port);
    let sent = '';
    for (let n = 1; n <= 5; n++) {
      const text = `before ${n};`;
      sent += text;
      c.socket.write(text);
      await c.waitFor(sent);
      const done = await reload(ferry, file, proxyConfig(port, echo.port));
      assert.is(done.msg, 'reload done');
      assert.is(done.inPlace, true);
      assert.equal(done.pids, pids, 'the same worker serves the next generation');
      const gone = await ferry.waitLog((l) => l.msg === 'old generation exited' && l.generation === n);
      assert.is(gone.handedOver, 1, `generation ${n} handed the tunnel over`);
      assert.is(gone.closedAtHardStop, false);
    }
    sent += 'after;';
    c.socket.write('after;');
    await c.waitFor(sent);
    assert.equal(ferry.workerPids, pids, 'no worker was started');
    c.socket.end();
    await c.closed;
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('a reload in place refuses and resets no connection while reloads follow each other (2 groups of 2 threads)', async () => {
  const port = await freePort();
  const config = oneFrontend(port, HELLO, { global: { groups: 2, threads: 2, hardStopAfter: '20s' } });
  const file = writeConfig(config);
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const asking = keepAsking(port);
    for (let i = 0; i < 10; i++) assert.is((await reload(ferry, file, config)).inPlace, true);
    const { served, failures } = await asking.stop();
    assert.equal(failures, []);
    assert.ok(served > 0);
    assert.is(await generationAt(port), 11);
    assert.is(ferry.workerPids.length, 2, 'no worker was started');
  } finally {
    await ferry.stop();
  }
});

test('a session that cannot move finishes in the old generation inside the same worker, and counts in show sess', async () => {
  const port = await freePort();
  const config = (backend: object): object => oneFrontend(port, backend, { global: { hardStopAfter: '20s' } });
  const file = writeConfig(config(ECHO));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    // A built-in service's session lives in its stack: it stays with the old generation.
    const old = await openClient(port);
    old.socket.write('old');
    await old.waitFor('old');
    assert.is((await reload(ferry, file, config(HELLO))).inPlace, true);
    assert.is(await generationAt(port), 2);
    old.socket.write(' still served');
    await old.waitFor('old still served');
    const sess = (await sendCommand(ferry.control, 'show sess')).data as { count: number; oldest: { generation: number }[] };
    assert.ok(sess.count >= 1);
    assert.is(sess.oldest.filter((s) => s.generation === 1).length, 1, 'the old generation\'s session is listed');
    assert.is(ferry.logs.some((l) => l.msg === 'old generation exited'), false);
    old.socket.end();
    await old.closed;
    const gone = await ferry.waitMsg('old generation exited');
    assert.is(gone.handedOver, 0);
    assert.is(gone.closedAtHardStop, false);
  } finally {
    await ferry.stop();
  }
});

test('reload processes, SIGUSR2 and a change of threads start new worker processes, which take the sessions over', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const file = writeConfig(proxyConfig(port, echo.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const c = await openClient(port);
    c.socket.write('one;');
    await c.waitFor('one;');
    const outcome = await sendCommand(ferry.control, 'reload processes');
    assert.ok(outcome.ok, outcome.lines.join('\n'));
    const byCommand = await ferry.waitLog((l) => l.msg === 'reload done' && l.generation === 2);
    assert.is(byCommand.processes, 'asked for');
    const bySignal = await reload(ferry, file, proxyConfig(port, echo.port), 'SIGUSR2');
    assert.is(bySignal.processes, 'asked for');
    const byShape = await reload(ferry, file, proxyConfig(port, echo.port, { threads: 2 }));
    assert.is(byShape.processes, 'groups or threads change');
    assert.is(ferry.logs.filter((l) => l.msg === 'worker started').length, 4, 'a new worker for each of the three reloads');
    for (let n = 1; n <= 3; n++) assert.is((await ferry.waitLog((l) => l.msg === 'old generation exited' && l.generation === n)).handedOver, 1);
    c.socket.write('two;');
    await c.waitFor('one;two;');
    c.socket.end();
    await c.closed;
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('a worker killed during a reload in place comes back running the next generation, which serves', async () => {
  const port = await freePort();
  const config = oneFrontend(port, HELLO, { global: { hardStopAfter: '20s' } });
  const file = writeConfig(config);
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const [worker] = ferry.workerPids;
    // Stopped, the worker cannot make the next generation ready before it dies.
    process.kill(worker, 'SIGSTOP');
    ferry.proc.kill('SIGHUP');
    await ferry.waitLog((l) => l.msg === 'reload requested');
    process.kill(worker, 'SIGKILL');
    const died = await ferry.waitLog((l) => l.msg === 'worker died: restarting it');
    assert.is(died.generation, 2, 'the worker belonged to the next generation');
    const done = await ferry.waitLog((l) => l.msg === 'reload done');
    assert.is(done.generation, 2);
    assert.is.not((done.pids as number[])[0], worker);
    assert.is(await generationAt(port), 2);
    // Its sessions died with the process; the new worker says it has nothing of generation 1.
    const gone = await ferry.waitLog((l) => l.msg === 'old generation exited' && l.generation === 1);
    assert.is(gone.handedOver, 0);
    assert.is(gone.closedAtHardStop, false);
    assert.is((await reload(ferry, file, config)).inPlace, true, 'the next reload goes in place in the new worker');
    assert.is(await generationAt(port), 3);
  } finally {
    await ferry.stop();
  }
});

type ThreadRow = ThreadHolds & { sessions: number };

async function showThreads(ferry: FerryProcess): Promise<ThreadRow[]> {
  const reply = await sendCommand(ferry.control, 'show threads');
  assert.ok(reply.ok, reply.lines.join('\n'));
  return reply.data as ThreadRow[];
}

/** Asks `show threads` until `done` holds of its one thread, for at most 10 s; returns that thread. */
async function threadWhen(ferry: FerryProcess, done: (t: ThreadRow) => boolean, what: string): Promise<ThreadRow> {
  const until = Date.now() + 10_000;
  for (;;) {
    const rows = await showThreads(ferry);
    assert.is(rows.length, 1);
    if (done(rows[0])) return rows[0];
    if (Date.now() > until) throw new Error(`${what}: show threads says ${JSON.stringify(rows[0])}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The TCP sockets a thread holds: listeners, clients, servers (pipes are the process's stdio and IPC, opened once). */
const sockets = (t: ThreadHolds): number => Object.entries(t.resources).reduce((n, [kind, count]) => n + (kind.startsWith('TCP') ? count : 0), 0);

test('a reload in place whose worker cannot take the new sockets (out of file descriptors) rolls back: the old generation serves on in the same worker, its tunnel intact', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const file = writeConfig(proxyConfig(port, echo.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const [worker] = ferry.workerPids;
    const c = await openClient(port);
    c.socket.write('before;');
    await c.waitFor('before;');
    const [before] = await showThreads(ferry);
    assert.equal(before.generations, [1]);
    // The worker may open one more file: the new generation's sockets arrive truncated (SCM_RIGHTS drops what does not fit).
    const limit = readdirSync(`/proc/${worker}/fd`).length + 1;
    const soft = execFileSync('prlimit', ['--pid', String(worker), '--nofile', '--output=SOFT', '--noheadings'], { encoding: 'utf8' }).trim();
    execFileSync('prlimit', ['--pid', String(worker), `--nofile=${limit}:`]);
    const wider = oneFrontend([port, await freePort(), await freePort(), await freePort()], { servers: serversAt(['s', echo.port]) }, { global: { hardStopAfter: '20s' } });
    const refused = await reload(ferry, file, wider);
    assert.is(refused.msg, 'reload refused: the running generation goes on unchanged');
    assert.is(refused.reason, 'the next generation did not start in the running workers');
    assert.match(JSON.stringify(refused.problems), /no socket received for 127\.0\.0\.1:\d+.*open files/);
    assert.equal(ferry.workerPids, [worker], 'the same worker serves on');
    c.socket.write('after;');
    await c.waitFor('before;after;');
    const back = await threadWhen(ferry, (t) => t.generations.length === 1, 'the failed generation leaves the worker');
    assert.equal(back.generations, [1]);
    assert.is(back.sessions, 1, 'the tunnel is still generation 1\'s');
    assert.is(sockets(back), sockets(before), 'the failed generation left no socket behind');
    // With its limit raised (at the limit it could accept no new client), the same worker takes the
    // same configuration in place.
    execFileSync('prlimit', ['--pid', String(worker), `--nofile=${soft}:`]);
    const done = await reload(ferry, file, wider);
    assert.is(done.inPlace, true);
    assert.equal(done.pids, [worker]);
    c.socket.write('later;');
    await c.waitFor('before;after;later;');
    const fresh = await openClient(port);
    fresh.socket.write('new;');
    await fresh.waitFor('new;');
    for (const t of [c, fresh]) t.socket.end();
    assert.equal((await Promise.all([c.closed, fresh.closed])).filter((x) => x.error !== undefined), [], 'no reset');
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('50 reloads in place under strict keep-alive HTTP clients and tunnels: nothing fails, every byte in order, and the old generations leave no socket behind', async () => {
  const app = await httpBackend();
  const echo = await echoServer();
  const [web, tun] = [await freePort(), await freePort()];
  const config = {
    global: { hardStopAfter: '20s', log: { access: false } },
    frontends: { web: { mode: 'http', bind: [`127.0.0.1:${web}`], backend: 'app' }, tun: { bind: [`127.0.0.1:${tun}`], backend: 'echo' } },
    backends: { app: { servers: serversAt(['a', app.port]) }, echo: { servers: serversAt(['e', echo.port]) } },
  };
  const file = writeConfig(config);
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const [before] = await showThreads(ferry);
    assert.equal(before.generations, [1]);
    const clients = await Promise.all(Array.from({ length: 10 }, () => openClient(web)));
    const tunnels = await Promise.all(Array.from({ length: 3 }, () => openClient(tun)));
    let reloading = true;
    let requests = 0;
    const failures: string[] = [];
    const sent = tunnels.map(() => '');
    const pause = (): Promise<void> => new Promise((r) => setTimeout(r, Math.random() * 20));
    const load = [
      ...clients.map(async (c, n) => {
        for (let i = 0; reloading; i++) {
          c.socket.write(`GET /c${n}/r${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
          await c.waitFor(`"url":"/c${n}/r${i}"`, 5000).catch((err: Error) => failures.push(err.message));
          requests++;
          await pause();
        }
      }),
      ...tunnels.map(async (t, n) => {
        for (let i = 0; reloading; i++) {
          sent[n] += `t${n}.${i};`;
          t.socket.write(`t${n}.${i};`);
          await t.waitFor(sent[n], 5000).catch((err: Error) => failures.push(err.message));
          await pause();
        }
      }),
    ];
    for (let i = 0; i < 50; i++) assert.is((await reload(ferry, file, config)).inPlace, true);
    reloading = false;
    await Promise.all(load);
    assert.equal(failures, []);
    assert.ok(requests > 50, `${requests} requests`);
    for (const c of clients) assert.not.match(c.received(), /HTTP\/1\.1 [45]\d\d/);
    // The server connections move with the stacks: 10 clients never need more than 10 at once.
    assert.ok(app.connections <= 2 * clients.length, `${app.connections} server connections made for ${clients.length} clients`);
    tunnels.forEach((t, n) => assert.is(t.received(), sent[n], 'every byte in order'));

    const after = await threadWhen(ferry, (t) => t.generations.length === 1, 'the old generations leave');
    assert.equal(after.generations, [51]);
    assert.is(after.sessions, 13, 'every client connection and tunnel lives on in generation 51');
    assert.is(ferry.workerPids.length, 1);
    for (const c of [...clients, ...tunnels]) c.socket.end();
    const closes = await Promise.all([...clients, ...tunnels].map((c) => c.closed));
    assert.equal(closes.filter((x) => x.error !== undefined), [], 'no reset');
    app.closeIdle();
    const quiet = await threadWhen(ferry, (t) => t.sessions === 0 && sockets(t) === sockets(before), 'back to the TCP sockets held before any client');
    assert.is(sockets(quiet), sockets(before));
  } finally {
    await ferry.stop();
    await app.close();
    await echo.close();
  }
});

test.run();
