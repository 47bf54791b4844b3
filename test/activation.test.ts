import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { takeListenFds } from '../master/listen-fds';
import { sendCommand } from '../src/control/client';
import { ECHO, HELLO, oneFrontend } from './helpers/configs';
import { CLI, FerryProcess, reloadWith, runCli, startFerry, tmpPath, writeConfig } from './helpers/ferry';
import { exchange, freePort, generationAt, keepAsking, openClient } from './helpers/net';
import { fdsOnSocket, listeningInodes } from './helpers/proc';

const ACTIVATE = '/usr/bin/systemd-socket-activate';
const activation = existsSync(ACTIVATE) ? test : test.skip;
if (activation === test.skip) console.log(`activation.test: skipping the socket-activation runs: ${ACTIVATE} is missing (it comes with systemd)`);

interface Passed {
  name: string;
  /** A TCP port on 127.0.0.1, or a Unix socket path. */
  at: number | string;
}

const listenArg = (p: Passed): string => (typeof p.at === 'number' ? `127.0.0.1:${p.at}` : p.at);

/**
 * Starts ferry the way systemd does, through the real systemd-socket-activate: it listens on the
 * sockets, waits for a first connection on any of them, then execs ferry with LISTEN_FDS and the
 * sockets from fd 3 on. The process keeps its pid across the exec, so `pid` is ferry's master.
 */
async function activated(passed: Passed[], config: object, args: string[] = []): Promise<FerryProcess> {
  return listening(await startFerry(config, { prefix: activate(passed), waitReady: false, args }), passed);
}

function activate(passed: Passed[]): string[] {
  return [ACTIVATE, ...passed.map((p) => `--listen=${listenArg(p)}`), `--fdname=${passed.map((p) => p.name).join(':')}`];
}

async function listening(p: FerryProcess, passed: Passed[]): Promise<FerryProcess> {
  const last = `Listening on ${listenArg(passed[passed.length - 1])} as ${2 + passed.length}.`;
  await p.until(() => p.stderr.includes(last), 10_000, 'systemd-socket-activate to listen');
  return p;
}

/** The first connection makes systemd-socket-activate start ferry; the kernel queues it until ferry serves it. */
async function greeted(ferry: FerryProcess, port: number): Promise<string> {
  const [reply] = await Promise.all([exchange(port, '', { end: false, timeoutMs: 15_000 }), ferry.waitMsg('ready', 15_000)]);
  return String(reply.data);
}

async function reload(ferry: FerryProcess, file: string, config: object): Promise<void> {
  const outcome = await reloadWith(ferry, file, config);
  assert.is(outcome.msg, 'reload done', JSON.stringify(outcome));
}

function environment(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
}

/** Connects and lets go whatever happens: starts a ferry that is expected to fail. */
function knock(port: number): void {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.on('connect', () => s.destroy());
}

activation('ferry serves on the sockets it is passed, binds none itself, and its workers hold only their dups', async () => {
  const [web, admin] = [await freePort(), await freePort()];
  const path = tmpPath('activated.sock');
  const config = oneFrontend(['fd@web', `unix@${path}`], HELLO, { global: { groups: 2, threads: 1 } });
  const ferry = await activated([{ name: 'web', at: web }, { name: 'admin', at: admin }, { name: 'local', at: path }], config);
  try {
    const [[webSocket], [adminSocket]] = [listeningInodes(web), listeningInodes(admin)];
    assert.match(await greeted(ferry, web), 'hello from ferry');
    assert.equal(listeningInodes(web), [webSocket], 'no LISTEN socket besides the inherited one');
    assert.is(fdsOnSocket(ferry.pid, webSocket), 1, 'the master holds the inherited fd');
    assert.is(fdsOnSocket(ferry.pid, adminSocket), 1, 'an unused inherited socket stays open');
    const inherited = ferry.logs.filter((l) => l.msg === 'receiver inherited').map((l) => [l.bind, l.address, l.fd]);
    assert.equal(inherited, [
      ['fd@web', `127.0.0.1:${web}`, 3],
      [`unix@${path}`, `unix@${path}`, 5],
    ]);
    assert.is(ferry.logs.some((l) => l.msg === 'receiver bound'), false);
    const shown = (await sendCommand(ferry.control, 'show listeners')).data as { bind: string; origin: string; fd: number }[];
    assert.equal(shown.map((l) => [l.bind, l.origin, l.fd]), [['fd@web', 'inherited', 3], [`unix@${path}`, 'inherited', 5]]);
    // The unix@ bind names the inherited socket's path, so ferry serves on it instead of binding.
    assert.is(await generationAt(0, path), 1);
    assert.is(ferry.workerPids.length, 2, 'both workers started');
    for (const worker of ferry.workerPids) {
      assert.is(fdsOnSocket(worker, webSocket), 1, 'one dup per thread, received over IPC');
      // Node marks the fds it inherits close-on-exec at start, so forked workers never hold them.
      assert.is(fdsOnSocket(worker, adminSocket), 0, 'the inherited fd itself does not leak into workers');
      assert.equal(environment(worker).filter((v) => v.startsWith('LISTEN_')), []);
    }
  } finally {
    await ferry.stop();
  }
});

activation('reloads keep serving on an inherited socket, take one by its address, and can drop and take it again', async () => {
  const [web, admin] = [await freePort(), await freePort()];
  const config = (binds: (string | number)[]): object => oneFrontend(binds, HELLO, { global: { groups: 2, threads: 1, hardStopAfter: '10s' } });
  const file = writeConfig(config(['fd@web']));
  const ferry = await activated([{ name: 'web', at: web }, { name: 'admin', at: admin }], {}, ['-c', file]);
  try {
    const [[webSocket], [adminSocket]] = [listeningInodes(web), listeningInodes(admin)];
    assert.match(await greeted(ferry, web), 'hello from ferry');

    const asking = keepAsking(web);
    // "127.0.0.1:admin" is the address of the inherited socket "admin": ferry takes it rather than bind.
    await reload(ferry, file, config(['fd@web', admin]));
    const { served, failures } = await asking.stop();
    assert.equal(failures, [], 'no client refused or reset during the reload');
    assert.ok(served > 0);
    assert.is(await generationAt(admin), 2);
    assert.equal(listeningInodes(admin), [adminSocket]);
    assert.ok(ferry.logs.some((l) => l.msg === 'receiver inherited' && l.bind === `127.0.0.1:${admin}`));

    // Dropped: the old generation goes, but the master keeps the socket (the kernel queues meanwhile).
    await reload(ferry, file, config([admin]));
    await ferry.waitLog((l) => l.msg === 'old generation exited' && l.generation === 2);
    assert.is(ferry.logs.some((l) => l.msg === 'receiver closed'), false);
    assert.equal(listeningInodes(web), [webSocket]);
    assert.is(fdsOnSocket(ferry.pid, webSocket), 1);

    await reload(ferry, file, config(['fd@web', admin]));
    assert.is(await generationAt(web), 4);
    assert.equal(listeningInodes(web), [webSocket]);
  } finally {
    await ferry.stop();
  }
});

activation('stopping leaves the inherited socket listening: new clients queue for the next start instead of being refused', async () => {
  const web = await freePort();
  const ferry = await activated([{ name: 'web', at: web }], oneFrontend('fd@web', ECHO, { global: { groups: 2, threads: 1, hardStopAfter: '20s' } }));
  try {
    const [socket] = listeningInodes(web);
    const held = await openClient(web);
    await ferry.waitMsg('ready', 15_000);
    ferry.proc.kill('SIGTERM');
    await ferry.until(() => ferry.logs.filter((l) => l.msg === 'thread stopping: no longer accepting').length === 2, 10_000, 'both workers to stop accepting');
    const queued = await openClient(web);
    assert.equal(listeningInodes(web), [socket]);
    held.socket.write('still served');
    await held.waitFor('still served');
    held.socket.end();
    const { code } = await ferry.exited;
    assert.is(code, 0);
    assert.equal(ferry.logs.filter((l) => (l.level as number) >= 50), [], 'no error on the way out');
    queued.socket.destroy();
  } finally {
    await ferry.stop();
  }
});

activation('an fd@ name that was not passed, or that names two sockets, fails the start and says what was passed', async () => {
  const [web, admin] = [await freePort(), await freePort()];
  const unknown = await activated([{ name: 'web', at: web }, { name: 'admin', at: admin }], oneFrontend('fd@api', HELLO));
  knock(web);
  assert.is((await unknown.exited).code, 1);
  assert.match(
    unknown.stderr,
    'frontends.web.bind[0]: cannot bind "fd@api": no socket named "api" was passed by the service manager (LISTEN_FDNAMES has: web, admin); check FileDescriptorName= in the .socket unit',
  );

  const twice = await activated([{ name: 'web', at: web }, { name: 'web', at: admin }], oneFrontend('fd@web', HELLO));
  knock(web);
  assert.is((await twice.exited).code, 1);
  assert.match(twice.stderr, '2 sockets are named "web" (fds 3, 4): give each its own FileDescriptorName=');
});

activation('two binds that reach one inherited socket, by name and by address, are refused', async () => {
  const web = await freePort();
  const ferry = await activated([{ name: 'web', at: web }], oneFrontend(['fd@web', web], HELLO));
  knock(web);
  assert.is((await ferry.exited).code, 1);
  assert.match(ferry.stderr, `frontends.web.bind[1]: cannot bind "127.0.0.1:${web}": it is the inherited socket 127.0.0.1:${web}, which frontends.web.bind[0] ("fd@web") already takes`);
});

activation('ferry check under socket activation checks fd@ binds against the passed sockets', async () => {
  const web = await freePort();
  const check = async (bind: string): Promise<FerryProcess> => {
    const file = writeConfig(oneFrontend(bind, HELLO));
    const passed = [{ name: 'web', at: web }];
    const [command, ...options] = activate(passed);
    const p = await listening(new FerryProcess(spawn(command, [...options, process.execPath, CLI, 'check', '-c', file]), ''), passed);
    knock(web);
    await p.exited;
    return p;
  };
  const good = await check('fd@web');
  assert.is((await good.exited).code, 0, good.stderr);
  assert.match(good.stdout, '1 binds, all bindable');
  const bad = await check('fd@api');
  assert.is((await bad.exited).code, 1);
  assert.match(bad.stderr, 'no socket named "api" was passed by the service manager (LISTEN_FDNAMES has: web)');
});

test('outside socket activation, fd@ binds fail start and check with the reason; check --no-bind accepts them', async () => {
  const file = writeConfig(oneFrontend('fd@web', HELLO));
  const reason = 'no socket named "web" was passed by the service manager: LISTEN_FDS is not set; fd@ binds work only under socket activation';
  const checked = await runCli(['check', '-c', file]);
  assert.is(checked.code, 1);
  assert.match(checked.stderr, `frontends.web.bind[0]: cannot bind "fd@web": ${reason}`);
  const syntax = await runCli(['check', '--no-bind', '-c', file]);
  assert.is(syntax.code, 0, syntax.stderr);
  const started = await runCli(['start', '-c', file, '--set', `global.masterSocket=${tmpPath('never.sock')}`]);
  assert.is(started.code, 1);
  assert.match(started.stderr, reason);
});

test('LISTEN_* are read as libsystemd reads them, and removed from the environment', () => {
  const env: NodeJS.ProcessEnv = { LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'web:ferry.socket', OTHER: 'x' };
  assert.equal(takeListenFds(env, 42), { fds: [{ fd: 3, name: 'web' }, { fd: 4, name: 'ferry.socket' }] });
  assert.equal(env, { OTHER: 'x' });
  assert.equal(takeListenFds(env, 42), { none: 'LISTEN_FDS is not set', ignored: false });
  assert.equal(takeListenFds({ LISTEN_PID: '42', LISTEN_FDS: '1' }, 42), { fds: [{ fd: 3, name: 'unknown' }] });
  assert.equal(takeListenFds({ LISTEN_PID: '41', LISTEN_FDS: '1' }, 42), { none: 'LISTEN_PID=41 is not this process (42)', ignored: true });
  assert.equal(takeListenFds({ LISTEN_FDS: '1' }, 42), { none: 'LISTEN_FDS is set but LISTEN_PID is not', ignored: true });
  assert.equal(takeListenFds({ LISTEN_PID: '42', LISTEN_FDS: 'two' }, 42), { none: 'LISTEN_FDS="two" is not a number', ignored: true });
  assert.equal(takeListenFds({ LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'web' }, 42), {
    none: 'LISTEN_FDNAMES has 1 names for LISTEN_FDS=2',
    ignored: true,
  });
});

test.run();
