import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { journalLine } from '../src/log/log';
import { CLI, reloadWith, runCli, startFerry, tmpPath, writeConfig } from './helpers/ferry';
import { exchange, freePort, listen } from './helpers/net';
import { HELLO, oneFrontend, serversAt } from './helpers/configs';
import { createServer } from 'node:net';

const HEALTH = { service: 'health' };

test('journalLine: each level gets its syslog priority, fatal as crit', () => {
  const line = (level: string): string => `{"level":"${level}","time":"2025-01-01T00:00:00.000Z","msg":"x"}\n`;
  const priorities = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => journalLine(line(l)).slice(0, 3));
  assert.equal(priorities, ['<2>', '<3>', '<4>', '<6>', '<7>', '<7>']);
  assert.is(journalLine(line('info')), `<6>${line('info')}`, 'the JSON line follows, whole');
});

test('log.format "journal": every line of the master and the workers starts with its priority, for journalctl -p', async () => {
  const port = await freePort();
  const closed = await freePort();
  const file = writeConfig(oneFrontend(port, { check: { interval: '1h' }, servers: serversAt(['gone', closed]) }, { global: { threads: 2 } }));
  const ferry = await startFerry(undefined, { args: ['-c', file, '--log-format', 'journal'] });
  try {
    const down = await ferry.waitLog((l) => l.msg === 'server state changed' && l.to === 'DOWN');
    assert.equal([down.level, down.priority], ['warn', 4]);
    const refused = await reloadWith(ferry, file, { global: { threads: 0 } });
    assert.equal([refused.level, refused.priority], ['error', 3]);
    await exchange(port, '', { end: false }).catch(() => undefined);
    await ferry.waitLog((l) => l.msg === 'session' && l.role === 'worker');
  } finally {
    await ferry.stop();
  }
  const lines = ferry.stdout.trim().split('\n');
  assert.ok(lines.length > 10);
  for (const line of lines) assert.match(line, /^<[2-7]>\{"level":"/);
  assert.ok(ferry.logs.every((l) => l.priority === { warn: 4, error: 3, info: 6 }[l.level as string]), 'each priority matches its level');
  assert.is(ferry.logs.find((l) => l.msg === 'ready')?.priority, 6);
});

/** Runs `ferry start` with stdout into a file, as journald's stream would be, and returns what it wrote. */
function startInto(args: string[], env: (stdout: { dev: number; ino: number }) => Record<string, string>): Promise<{ code: number | null; out: string; stderr: string }> {
  const path = tmpPath(`stdout-${Math.random().toString(36).slice(2)}.log`);
  const fd = openSync(path, 'w');
  const st = fstatSync(fd);
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'start', ...args], { env: { ...process.env, ...env(st) }, stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    let stderr = '';
    p.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    p.on('close', (code) => resolve({ code, out: readFileSync(path, 'utf8'), stderr }));
  });
}

test('JOURNAL_STREAM naming stdout picks the journal format; naming another stream or an explicit format does not', async () => {
  // A port in use: the start fails at once, with a fatal line.
  const taken = createServer();
  const port = await listen(taken);
  try {
    const args = ['-c', writeConfig(oneFrontend(port, HELLO)), '--set', `global.masterSocket=${tmpPath(`journal-${port}.sock`)}`];
    const journal = await startInto(args, (st) => ({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }));
    assert.is(journal.code, 1);
    assert.match(journal.out, /^<2>\{"level":"fatal",.*"msg":"cannot bind: nothing started"\}$/m);
    for (const line of journal.out.trim().split('\n')) assert.match(line, /^<\d>\{/);

    const redirected = await startInto(args, (st) => ({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }));
    assert.match(redirected.out, /^\{"level":"fatal",/m, 'stdout is not the journal stream: plain JSON');
    const explicit = await startInto([...args, '--log-format', 'json'], (st) => ({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }));
    assert.match(explicit.out, /^\{"level":"fatal",/m);
    assert.not.match(explicit.out, /^</m);
  } finally {
    taken.close();
  }
});

test('log.access false: no session or request lines, the rest of the log as before', async () => {
  const [tcp, http] = [await freePort(), await freePort()];
  const config = {
    global: { log: { access: false } },
    frontends: { tcp: { bind: [`127.0.0.1:${tcp}`], backend: 'hello' }, http: { bind: [`127.0.0.1:${http}`], mode: 'http', backend: 'health' } },
    backends: { hello: HELLO, health: HEALTH },
  };
  const ferry = await startFerry(config);
  try {
    assert.match(String((await exchange(tcp, '', { end: false })).data), /hello from ferry/);
    assert.match(String((await exchange(http, 'GET / HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n')).data), /^HTTP\/1\.1 200/);
    // Refused: a malformed request, which logs "request refused" when the access log is on.
    assert.match(String((await exchange(http, 'NOT HTTP\r\n\r\n')).data), /^HTTP\/1\.1 400/);
  } finally {
    assert.is((await ferry.stop()).code, 0);
  }
  // The workers have exited: every line they logged is in.
  const access = ferry.logs.filter((l) => ['session', 'request', 'request refused', 'connection cut'].includes(l.msg));
  assert.equal(access, []);
  assert.ok(ferry.logs.some((l) => l.msg === 'thread stopping: no longer accepting' && l.level === 'info'), 'other info lines are still there');
});

test('log.access takes true or false, and says so', async () => {
  const r = await runCli(['check', '--no-bind', '--set', 'global.log.access="no"']);
  assert.is(r.code, 1);
  assert.match(r.stderr, '- global.log.access: expected true or false, found "no"');
  const ok = await runCli(['check', '--no-bind', '--set', 'global.log.access=false']);
  assert.is(ok.code, 0, ok.stderr);
});

test('the access log of an HTTP request has its host, user agent and a request id of its own', async () => {
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, HEALTH, { frontend: { mode: 'http' }, global: { threads: 2 } }));
  try {
    const ask = (path: string, agent: string): Promise<unknown> => exchange(port, `GET ${path} HTTP/1.1\r\nHost: app.example:${port}\r\nUser-Agent: ${agent}\r\nConnection: close\r\n\r\n`);
    await ask('/one', 'curl/8.5.0');
    await ask('/two', 'test-agent/1');
    const one = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/one');
    const two = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/two');
    assert.equal([one.host, one.userAgent], [`app.example:${port}`, 'curl/8.5.0']);
    assert.is(two.userAgent, 'test-agent/1');
    assert.match(String(one.requestId), /^[0-9a-f]{12}-[0-9a-z]+$/);
    assert.is.not(one.requestId, two.requestId);
    // HTTP/1.0 without Host or User-Agent: "-".
    await exchange(port, 'GET /bare HTTP/1.0\r\n\r\n');
    const bare = await ferry.waitLog((l) => l.msg === 'request' && l.path === '/bare');
    assert.equal([bare.host, bare.userAgent], ['-', '-']);
  } finally {
    await ferry.stop();
  }
});

test.run();
