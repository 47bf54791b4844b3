import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import { oneFrontend } from './helpers/configs';
import { reloadWith, runCli, startFerry, tmpPath, writeConfig, type FerryProcess } from './helpers/ferry';
import { closeAll, freePort, namedServer, tally, type TestServer } from './helpers/net';

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let files = 0;

/** Servers a and b (weights 10 and 4) behind one frontend, and the operators' settings saved to `stateFile`. */
function config(port: number, a: TestServer, b: TestServer, stateFile: string | undefined, servers: Data = {}): Data {
  const backend = { servers: { a: { address: `127.0.0.1:${a.port}`, weight: 10 }, b: { address: `127.0.0.1:${b.port}`, weight: 4 }, ...servers } };
  return oneFrontend(port, backend, { global: { threads: 2, ...(stateFile !== undefined && { stateFile }) } });
}

async function ok(ferry: FerryProcess, command: string): Promise<Data> {
  const reply = await sendCommand(ferry.control, command);
  assert.ok(reply.ok, `${command}: ${reply.lines.join('\n')}`);
  return reply as Data;
}

async function serversState(ferry: FerryProcess): Promise<Record<string, Data>> {
  const reply = await ok(ferry, 'show servers state');
  return Object.fromEntries((reply.data.servers as Data[]).map((s) => [s.server, s]));
}

function saved(file: string): Data[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as Data).servers.map((s: Data) => ({ server: s.server, admin: s.admin, weight: s.weight }));
}

test('global.stateFile: disable server and set weight N% are saved at once, and a stop and start brings them back', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const file = tmpPath(`state-${++files}.json`);
  const cfg = writeConfig(config(port, a, b, file));
  let ferry = await startFerry(undefined, { args: ['-c', cfg] });
  try {
    assert.not.ok(existsSync(file), 'nothing to save yet');
    const disabled = await ok(ferry, 'disable server app/a');
    assert.equal(disabled.lines, ['server app/a: MAINT, weight 10']);
    assert.equal(saved(file), [{ server: 'a', admin: 'maint', weight: 10 }]);
    const half = await ok(ferry, 'set weight app/b 50%');
    assert.equal(half.lines, ['server app/b: UP, weight 2'], '50% of the configured 4');
    assert.equal(saved(file), [{ server: 'a', admin: 'maint', weight: 10 }, { server: 'b', admin: 'ready', weight: 2 }]);
    assert.equal(readdirSync(dirname(file)).filter((f) => f.includes('.tmp')), [], 'the temporary file was renamed over it');
    await ferry.stop();

    ferry = await startFerry(undefined, { args: ['-c', cfg] });
    const restored = ferry.logs.filter((l) => l.msg === 'server setting restored').map((l) => [l.server, l.admin, l.weight, l.state, l.file]);
    assert.equal(restored, [['a', 'maint', 10, 'MAINT', file], ['b', 'ready', 2, 'UP', file]]);
    assert.equal(await tally(port, 6), { b: 6 }, 'a is still off after the restart, in every thread');
    const state = await serversState(ferry);
    assert.equal([state.a.state, state.a.admin, state.b.weight, state.b.configuredWeight], ['MAINT', 'maint', 2, 4]);
    const text = await runCli(['ctl', '-s', ferry.control, 'show servers state']);
    assert.match(text.stdout, `state file: ${file}\n`);
    assert.match(text.stdout, /app\/a +127\.0\.0\.1:\d+ +MAINT +maint +10 +10 +-/);

    // Back to the configuration: nothing left to save.
    await ok(ferry, 'enable server app/a');
    await ok(ferry, 'set weight app/b 100%');
    assert.equal(saved(file), []);
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('global.stateFile across reloads: kept while the server is unchanged, dropped from the file when the reload changes it', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const file = tmpPath(`state-${++files}.json`);
  const cfg = writeConfig(config(port, a, b, file));
  const ferry = await startFerry(undefined, { args: ['-c', cfg] });
  try {
    await ok(ferry, 'disable server app/a');
    await ok(ferry, 'drain server app/b');
    const same = await reloadWith(ferry, cfg, config(port, a, b, file));
    assert.is(same.msg, 'reload done');
    assert.equal(saved(file), [{ server: 'a', admin: 'maint', weight: 10 }, { server: 'b', admin: 'drain', weight: 4 }]);
    assert.equal((await serversState(ferry)).a.state, 'MAINT');

    const changed = await reloadWith(ferry, cfg, config(port, a, b, file, { a: { address: `127.0.0.1:${a.port}`, weight: 5 } }));
    assert.is(changed.msg, 'reload done');
    assert.equal(saved(file), [{ server: 'b', admin: 'drain', weight: 4 }], 'the new configuration says what a is');
    assert.equal(await tally(port, 4), { a: 4 });
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('a reload that sets global.stateFile saves what the master holds there', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const file = tmpPath(`state-${++files}.json`);
  const cfg = writeConfig(config(port, a, b, undefined));
  const ferry = await startFerry(undefined, { args: ['-c', cfg] });
  try {
    await ok(ferry, 'disable server app/a');
    assert.match((await ok(ferry, 'show servers state')).lines[0], /^no state file \(global\.stateFile\)/);
    assert.is((await reloadWith(ferry, cfg, config(port, a, b, file))).msg, 'reload done');
    assert.equal(saved(file), [{ server: 'a', admin: 'maint', weight: 10 }]);
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('a corrupt state file is reported and ignored; stale settings are reported, the others applied; never fatal', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const file = tmpPath(`state-${++files}.json`);
  writeFileSync(file, '{"format":1,"servers":[{"backend":"app"');
  const cfg = writeConfig(config(port, a, b, file));
  let ferry = await startFerry(undefined, { args: ['-c', cfg] });
  try {
    const corrupt = await ferry.waitMsg('server state file: settings not applied');
    assert.is(corrupt.level, 'warn');
    assert.is(corrupt.file, file);
    assert.match(String((corrupt.problems as string[])[0]), /^not valid JSON \(.*\): the whole file is ignored$/);
    assert.equal(await tally(port, 14), { a: 10, b: 4 });
    await ferry.stop();

    const now = (name: 'a' | 'b', server: TestServer, weight: number): Data => ({ name, host: '127.0.0.1', port: server.port, weight });
    writeFileSync(
      file,
      JSON.stringify({
        format: 1,
        servers: [
          { backend: 'app', server: 'a', admin: 'maint', weight: 10, config: now('a', a, 10) },
          { backend: 'app', server: 'b', admin: 'maint', weight: 4, config: now('b', b, 3) },
          { backend: 'app', server: 'gone', admin: 'drain', weight: 1, config: now('a', a, 1) },
        ],
      }),
    );
    ferry = await startFerry(undefined, { args: ['-c', cfg] });
    const stale = await ferry.waitMsg('server state file: settings not applied');
    assert.equal(stale.problems, [
      'app/b: its configuration changed since the setting was saved (weight): its setting (maint, weight 4) is not applied',
      'app/gone: no such server in the configuration: its setting (drain, weight 1) is not applied',
    ]);
    assert.equal(await tally(port, 4), { b: 4 }, 'the setting of a applies');

    await ferry.stop();

    writeFileSync(file, JSON.stringify({ format: 7, servers: [] }));
    ferry = await startFerry(undefined, { args: ['-c', cfg] });
    const other = await ferry.waitMsg('server state file: settings not applied');
    assert.equal(other.problems, ['format 7, not 1: written by another version of ferry: the whole file is ignored']);
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('set weight N%: relative to the configured weight, at most 256; a state file that cannot be written is said, the setting holds', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const file = tmpPath(`missing-dir-${++files}/state.json`);
  const ferry = await startFerry(config(port, a, b, file));
  try {
    const tooMuch = await sendCommand(ferry.control, 'set weight app/a 3000%');
    assert.equal(tooMuch, { ok: false, lines: ['3000% of the configured weight 10 is 300: a weight is at most 256'] });
    const bad = await sendCommand(ferry.control, 'set weight app/a half');
    assert.match(bad.lines[0], 'weight must be an integer from 0 to 256, or a percentage of the configured weight such as "50%"; found "half"');
    const zero = await ok(ferry, 'set weight app/a 0%');
    assert.match(zero.lines[0], /^server app\/a: UP, weight 0 \(not saved to .*missing-dir-\d+\/state\.json: ENOENT.*; it holds until the master stops\)$/);
    const warn = await ferry.waitMsg('server state file not saved: the settings hold until the master stops');
    assert.equal([warn.level, warn.file], ['warn', file]);
    assert.equal(await tally(port, 4), { b: 4 });
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('global.stateFile must be a path', async () => {
  const r = await runCli(['check', '--no-bind', '--set', 'global.stateFile=""']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /- global\.stateFile: expected a path for the server state file, such as "\/var\/lib\/ferry\/servers\.json", found ""/);
});

test.run();
