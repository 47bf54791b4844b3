import { writeFileSync } from 'node:fs';
import { SeqpacketServer, SeqpacketSocket } from 'node-unix-socket';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand, sendCommands } from '../src/control/client';
import { destroyLater } from '../src/control/seqpacket';
import { runCli, startFerry, tmpPath, writeConfig } from './helpers/ferry';
import { exchange, freePort } from './helpers/net';
import { HELLO, oneFrontend } from './helpers/configs';
import { rawRequest, rawRequests } from './helpers/control';
import { spawn, spawnSync } from 'node:child_process';

function helloConfig(port: number, global: object = {}): object {
  return oneFrontend(port, HELLO, { global });
}

test('ferry reload waits for the outcome: success, then a refusal that lists the problems', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig(port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const ok = await runCli(['reload', '-s', ferry.control]);
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /reloaded: generation 2 serves/);
    assert.match(String((await exchange(port, '', { end: false })).data), /generation 2/);

    writeFileSync(file, JSON.stringify(helloConfig(port, { threads: 0 })));
    const refused = await runCli(['reload', '-s', ferry.control]);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /reload refused \(invalid configuration\); generation 2 goes on unchanged/);
    assert.match(refused.stderr, /global\.threads: expected an integer from 1 to 64, found 0/);
    assert.match(String((await exchange(port, '', { end: false })).data), /generation 2/);
  } finally {
    await ferry.stop();
  }
});

test('reloads asked for during a reload are folded into one more, and each caller hears its outcome', async () => {
  const port = await freePort();
  const ferry = await startFerry(helloConfig(port));
  try {
    // In new processes: the first reload is still starting its worker when the other two arrive.
    const replies = await Promise.all([1, 2, 3].map(() => sendCommand(ferry.control, 'reload processes')));
    assert.ok(replies.every((r) => r.ok), JSON.stringify(replies));
    assert.is(ferry.logs.filter((l) => l.msg === 'reload done').length, 2);
    assert.match(replies[2].lines[0], /generation 3 serves/);
  } finally {
    await ferry.stop();
  }
});

test('the master socket speaks plain text too, and answers bad requests without stalling', async () => {
  const port = await freePort();
  const ferry = await startFerry(helloConfig(port));
  try {
    // A client that connects and says nothing must not hold anyone up.
    const idle = new SeqpacketSocket();
    await new Promise<void>((resolve) => idle.connect(ferry.control, resolve));
    assert.match(String(await rawRequest(ferry.control, Buffer.from('help\n'))), /reload/);
    assert.match(String(await rawRequest(ferry.control, Buffer.from('frobnicate\n'))), /^error: unknown command "frobnicate"; try "help"/);
    assert.match(String(await rawRequest(ferry.control, Buffer.from('\n'))), /^error: empty command/);
    const malformed = await sendCommand(ferry.control, 'help').then(() => rawRequest(ferry.control, Buffer.from([0x81, 0xa7, 0x63])));
    assert.ok(malformed !== undefined && malformed.length > 0, 'a reply to a truncated msgpack map');
    const ctl = await runCli(['ctl', '-s', ferry.control, 'help']);
    assert.is(ctl.code, 0);
    assert.match(ctl.stdout, /reload/);
    const json = await runCli(['ctl', '-s', ferry.control, '--json', 'nope']);
    assert.is(json.code, 1);
    assert.equal(JSON.parse(json.stdout), { ok: false, lines: ['unknown command "nope"; try "help"'] });
    destroyLater(idle);
    assert.match(String((await exchange(port, '', { end: false })).data), /hello from ferry/);
  } finally {
    await ferry.stop();
  }
});

const hasSocat = spawnSync('socat', ['-V']).status === 0;
const socatTest = hasSocat ? test : test.skip;
if (!hasSocat) console.log('control.test: the socat tests are skipped: socat is not installed (.ci/run installs it)');

/** `printf INPUT | socat - UNIX-CONNECT:PATH,type=5`: socat half-closes once its input ends. */
function socat(path: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('socat', ['-', `UNIX-CONNECT:${path},type=5`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input);
  });
}

socatTest('echo "show info" | socat: the reply comes before the master closes, as the client half-closed after its request', async () => {
  const port = await freePort();
  const ferry = await startFerry(helloConfig(port));
  try {
    const info = await socat(ferry.control, 'show info\n');
    assert.is(info.code, 0, info.stderr);
    assert.match(info.stdout, new RegExp(`^version: .*\\npid: +${ferry.pid}\\n`, 's'));
    const two = await socat(ferry.control, 'show sess\nshow proc\n');
    assert.is(two.code, 0, two.stderr);
    assert.match(two.stdout, /^0 live sessions over 1 thread\n#  +pid  +role/);
  } finally {
    await ferry.stop();
  }
});

test('several commands in one packet, by new line or ";", are answered in order, one reply packet each, then the connection closes', async () => {
  const port = await freePort();
  const ferry = await startFerry(helloConfig(port));
  try {
    const text = (await rawRequests(ferry.control, Buffer.from('show sess\nshow proc\n'))).map(String);
    assert.is(text.length, 2, text.join('|'));
    assert.match(text[0], /^0 live sessions/);
    assert.match(text[1], /^# +pid +role/);
    // An error in the middle does not stop the commands after it; empty ones are skipped.
    const mixed = (await rawRequests(ferry.control, Buffer.from('help ; frob;;show sess'))).map(String);
    assert.is(mixed.length, 3, mixed.join('|'));
    assert.match(mixed[0], /^help +this list/);
    assert.is(mixed[1], 'error: unknown command "frob"; try "help"\n');
    assert.match(mixed[2], /^0 live sessions/);
    // Each command runs after the one before it has finished: the reload is done when show proc runs.
    const replies = await sendCommands(ferry.control, 'reload; show proc');
    assert.ok(replies[0].ok, replies[0].lines.join('\n'));
    assert.ok((replies[1].data as { workers: { generation: number; role: string }[] }).workers.some((w) => w.generation === 2 && w.role === 'current'));
    const ctl = await runCli(['ctl', '-s', ferry.control, '--json', 'show sess; nope']);
    assert.is(ctl.code, 1, 'one command failed');
    const lines = ctl.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean });
    assert.equal(lines.map((l) => l.ok), [true, false]);
    const tooMany = await rawRequest(ferry.control, Buffer.from('help;'.repeat(101)));
    assert.is(String(tooMany), 'error: too many commands in one request (101, at most 100): send them in several\n');
  } finally {
    await ferry.stop();
  }
});

test('ferry reload without a running master says how to reach one', async () => {
  const r = await runCli(['reload', '-s', tmpPath('nobody.sock')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot reach the ferry master at .*nobody\.sock.*is ferry running\?/);
});

test('a second master on the same master socket refuses to start', async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const ferry = await startFerry(helloConfig(p1));
  try {
    const r = await runCli(['start', '-c', writeConfig(helloConfig(p2)), '--set', `global.masterSocket=${ferry.control}`]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /another ferry master listens on/);
  } finally {
    await ferry.stop();
  }
});

test('ferry ctl says so when the socket closes without a reply, rather than waiting forever', async () => {
  const path = tmpPath('mute-master.sock');
  const mute = new SeqpacketServer();
  mute.on('connection', (socket: SeqpacketSocket) => socket.on('data', () => destroyLater(socket)));
  mute.listen(path);
  try {
    const ctl = await runCli(['ctl', '-s', path, 'help']);
    assert.is(ctl.code, 1);
    assert.match(ctl.stderr, `the ferry master at ${path} closed the connection without a reply (is it stopping?)`);
  } finally {
    mute.close();
  }
});

test.run();
