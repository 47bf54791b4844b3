import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, startFerry, tmpPath, writeConfig } from './helpers/ferry';
import { freePort, listen } from './helpers/net';
import { ECHO, oneFrontend } from './helpers/configs';

const EXAMPLE = join(__dirname, '..', '..', 'etc', 'ferry.json');

function config(port: number, frontend: object = {}, global: object = {}): object {
  return oneFrontend(port, ECHO, { global, frontend });
}

test('--help and --version', async () => {
  const help = await runCli(['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /ferry start \[-c FILE\]/);
  assert.match(help.stdout, /ferry check/);
  const version = await runCli(['--version']);
  assert.is(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('bad usage exits 2 with a hint', async () => {
  const r = await runCli(['frobnicate']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
  assert.match(r.stderr, /ferry --help/);
});

test('check accepts the example configuration', async () => {
  const r = await runCli(['check', '-c', EXAMPLE, '--no-bind']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /is valid/);
});

test('check and start list every problem with its key path', async () => {
  const file = writeConfig({
    global: { groups: 1 },
    frontends: { web: { bind: ['127.0.0.1:1'], backend: 'ap', maxconnn: 5, timeout: { client: '30x' } } },
    backends: { app: { service: 'echo' } },
  });
  for (const command of ['check', 'start']) {
    const r = await runCli([command, '-c', file]);
    assert.is(r.code, 1, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /frontends\.web\.maxconnn/);
    assert.match(r.stderr, /frontends\.web\.timeout\.client.*"30x"/);
    assert.match(r.stderr, /frontends\.web\.backend.*"ap"/);
    assert.match(r.stderr, /3 problems/);
    assert.is(r.stdout.includes('worker started'), false, 'nothing started');
  }
});

test('a port in use fails check and start, naming the bind, and leaves nothing running', async () => {
  const squatter = createServer();
  const port = await listen(squatter);
  try {
    const file = writeConfig(config(port));
    for (const command of ['check', 'start']) {
      const r = await runCli([command, '-c', file]);
      assert.is(r.code, 1, `${command}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`frontends\\.web\\.bind\\[0\\]: cannot bind "127\\.0\\.0\\.1:${port}": address already in use`));
      assert.is(r.stdout.includes('worker started'), false);
    }
  } finally {
    squatter.close();
  }
});

test('an address this host does not have is named as such', async () => {
  const r = await runCli(['check', '-c', writeConfig({ frontends: { web: { bind: ['192.0.2.1:8080'], backend: 'app' } }, backends: { app: { service: 'echo' } } })]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /frontends\.web\.bind\[0\]: cannot bind "192\.0\.2\.1:8080": address not available/);
});

test('--pidfile: the master\'s pid once everything is bound, removed at exit; no file when the start fails', async () => {
  const port = await freePort();
  const pidfile = tmpPath(`ferry-${port}.pid`);
  const ferry = await startFerry(config(port), { args: ['--pidfile', pidfile] });
  assert.is(readFileSync(pidfile, 'utf8'), `${ferry.pid}\n`);
  assert.is((await ferry.stop()).code, 0);
  assert.not.ok(existsSync(pidfile), 'removed at exit');

  // A bind that fails: nothing bound, nothing written.
  const squatter = createServer();
  await listen(squatter, port);
  try {
    const failed = await runCli(['start', '-c', writeConfig(config(port)), '--set', `global.masterSocket=${tmpPath(`pid-${port}.sock`)}`, '--pidfile', pidfile]);
    assert.is(failed.code, 1);
    assert.not.ok(existsSync(pidfile));
  } finally {
    squatter.close();
  }
  // A pid file that cannot be written stops the start, and lets go of what was bound.
  const nowhere = tmpPath('no-such-dir/ferry.pid');
  const r = await runCli(['start', '-c', writeConfig(config(port)), '--set', `global.masterSocket=${tmpPath(`pid2-${port}.sock`)}`, '--pidfile', nowhere]);
  assert.is(r.code, 1);
  assert.match(r.stderr, `ferry: cannot start: cannot write the pid file "${nowhere}": ENOENT`);
  const again = createServer();
  await listen(again, port);
  again.close();
  const usage = await runCli(['check', '--pidfile', pidfile]);
  assert.is(usage.code, 2);
  assert.match(usage.stderr, '--pidfile only applies to start');
});

test('settings come from --set over FERRY_* over the file', async () => {
  const port = await freePort();
  const file = writeConfig(config(port, {}, { groups: 1, maxconn: 100 }));
  const ferry = await startFerry(undefined, {
    args: ['-c', file, '--set', 'global.threads=2'],
    env: { FERRY_global__groups: '2', FERRY_global__threads: '3' },
  });
  try {
    const ready = await ferry.waitMsg('ready');
    assert.is(ready.groups, 2, 'env over file');
    assert.is(ready.threads, 2, '--set over env');
  } finally {
    await ferry.stop();
  }
});

test.run();
