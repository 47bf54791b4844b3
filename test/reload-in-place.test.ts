// A reload in place: the running workers start the next generation's stacks beside their own and
// take the sessions over in memory; new worker processes only where the configuration needs them
// (groups, threads, run-as, UDP) or where the operator asks (`reload processes`, SIGUSR2).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import { reloadWith as reload, startFerry, writeConfig } from './helpers/ferry';
import { echoServer, freePort, generationAt, keepAsking, openClient } from './helpers/net';
import { ECHO, HELLO, oneFrontend, serversAt } from './helpers/configs';

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

test.run();
