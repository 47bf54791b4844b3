import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import { runCli, startFerry, type FerryProcess } from './helpers/ferry';
import { echoServer, exchange, freePort, openClient } from './helpers/net';
import { AS_NOBODY, CANNOT_SWITCH, NOBODY, NOT_ROOT, freshPath, writeShared } from './helpers/nobody';
import { threadCredentials } from './helpers/proc';
import { HELLO, oneFrontend, serversAt } from './helpers/configs';

const rootTest = NOT_ROOT === undefined ? test : test.skip;
const nobodyTest = CANNOT_SWITCH === undefined ? test : test.skip;
if (NOT_ROOT !== undefined) console.log(`privdrop.test: tests that drop to "nobody" are skipped: ${NOT_ROOT}`);
else if (CANNOT_SWITCH !== undefined) console.log(`privdrop.test: tests that run ferry as "nobody" are skipped: ${CANNOT_SWITCH}`);

function runAsNobody(global: object = {}): object {
  return { user: 'nobody', group: 'nogroup', ...global };
}

/** Pids of the workers the master started for generation `n`. */
function workersOf(ferry: FerryProcess, n: number): number[] {
  return ferry.logs.filter((l) => l.msg === 'worker started' && l.generation === n).map((l) => l.worker as number);
}

/** Every thread of every worker of generation `n` runs as nobody:nogroup, with no other group. */
function assertNobody(ferry: FerryProcess, n: number, groups: number): void {
  const pids = workersOf(ferry, n);
  assert.is(pids.length, groups, `generation ${n} has ${groups} workers`);
  for (const pid of pids) {
    const threads = threadCredentials(pid);
    assert.ok(threads.length > 1, `worker ${pid}: its threads are listed`);
    for (const t of threads) assert.equal(t, { uid: [NOBODY, NOBODY, NOBODY, NOBODY], gid: [NOBODY, NOBODY, NOBODY, NOBODY], groups: [NOBODY] }, `worker ${pid}`);
  }
  for (const t of threadCredentials(ferry.pid)) assert.equal(t.uid, [0, 0, 0, 0], 'the master stays root');
}

rootTest('workers run as global.user and global.group in every thread, the master stays root, and tunnels flow', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { servers: serversAt(['s1', echo.port]) }, { global: runAsNobody({ groups: 2 }) }));
  try {
    assertNobody(ferry, 1, 2);
    assert.is(ferry.logs.filter((l) => l.msg === 'privileges dropped' && l.uid === NOBODY && l.gid === NOBODY).length, 2);
    const r = await exchange(port, 'through nobody');
    assert.is(String(r.data), 'through nobody');
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

rootTest('with worker threads, and after a reload in new processes the new generation runs as nobody and takes the tunnels over', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { servers: serversAt(['s1', echo.port]) }, { global: runAsNobody({ threads: 2 }) }));
  try {
    assertNobody(ferry, 1, 1);
    const client = await openClient(port);
    client.socket.write('a');
    await client.waitFor('a');
    // The tunnel moves to generation 2: both generations load the envelope's msgpackr as nobody.
    const reload = await sendCommand(ferry.control, 'reload processes');
    assert.ok(reload.ok, reload.lines.join('\n'));
    assertNobody(ferry, 2, 1);
    await ferry.waitLog((l) => l.msg === 'old generation exited' && l.handedOver === 1);
    client.socket.write('b');
    await client.waitFor('ab');
    client.socket.end();
    assert.equal(await client.closed, { ended: true, error: undefined });
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

nobodyTest('a worker that cannot drop its privileges tells the master why and exits non-zero', async () => {
  const port = await freePort();
  // Root without CAP_SETUID and CAP_SETGID, as under a CapabilityBoundingSet that lacks them.
  const ferry = await startFerry(oneFrontend(port, HELLO, { global: runAsNobody() }), {
    prefix: ['setpriv', '--bounding-set=-setuid,-setgid'],
    waitReady: false,
  });
  try {
    const failed = await ferry.waitMsg('worker failed to start');
    assert.match(String(failed.reason), /^cannot run as user "nobody" \(uid 65534\), group "nogroup" \(gid 65534\): cannot set the supplementary groups: EPERM/);
    const fatal = await ferry.waitLog((l) => l.level === 'fatal' && l.role === 'worker');
    assert.match(fatal.msg, /the worker exits$/);
    const died = await ferry.waitMsg('worker died: restarting it');
    assert.is(died.code, 1);
    assert.not.ok(ferry.logs.some((l) => l.msg === 'ready'), 'nothing serves as root');
  } finally {
    await ferry.stop();
  }
});

nobodyTest('not root: global.user naming another user is refused at start; naming itself is a no-op', async () => {
  const port = await freePort();
  const config = ['-c', writeShared(`config-${port}.json`, JSON.stringify(oneFrontend(port, HELLO)))];
  const socket = ['--set', `global.masterSocket=${freshPath('ferry.sock')}`];
  const refused = await runCli(['start', ...config, ...socket, '--set', 'global.user=root'], {}, AS_NOBODY);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /global\.user needs ferry to start as root: workers cannot switch to user "root" \(uid 0\), its primary group \(gid 0\) from uid 65534, gid 65534/);
  const check = await runCli(['check', '--no-bind', ...config, '--set', 'global.user=root'], {}, AS_NOBODY);
  assert.is(check.code, 1);
  assert.match(check.stderr, /is valid but cannot run here:\n {2}- global\.user needs ferry to start as root/);

  const ferry = await startFerry(undefined, { prefix: AS_NOBODY, args: [...config, ...socket, ...['--set', 'global.user=nobody', '--set', 'global.group=nogroup']] });
  try {
    assert.match(String((await exchange(port, '', { end: false })).data), /hello from ferry/);
    assert.not.ok(ferry.logs.some((l) => l.msg === 'privileges dropped'), 'nothing to drop');
  } finally {
    await ferry.stop();
  }
});

test('an unknown global.user or global.group, or a group alone, is a configuration problem naming the key', async () => {
  const check = (...sets: string[]): Promise<{ code: number | null; stderr: string }> => runCli(['check', '--no-bind', ...sets.flatMap((s) => ['--set', s])]);
  const user = await check('global.user=no-such-user-here');
  assert.is(user.code, 1);
  assert.match(user.stderr, /- global\.user: unknown user "no-such-user-here" \(not in \/etc\/passwd; give a name that exists or a numeric id\)/);
  const group = await check('global.user=nobody', 'global.group=no-such-group-here');
  assert.match(group.stderr, /- global\.group: unknown group "no-such-group-here" \(not in \/etc\/group/);
  const alone = await check('global.group=nogroup');
  assert.match(alone.stderr, /- global\.group: needs global\.user too/);
  const noAccount = await check('global.user=4000000000');
  assert.match(noAccount.stderr, /- global\.group: required when global\.user is an id that no account has \(4000000000\)/);
  const badType = await check('global.user=-3', 'global.group=true');
  assert.match(badType.stderr, /- global\.user: expected a user name or a numeric id, such as "ferry" or 1000, found -3/);
  assert.match(badType.stderr, /- global\.group: expected a group name or a numeric id, such as "ferry" or 1000, found true/);
  const ok = await check('global.user=nobody');
  assert.is(ok.code, 0, ok.stderr);
});

test.run();
