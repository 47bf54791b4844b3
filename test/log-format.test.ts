import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, startFerry } from './helpers/ferry';
import { exchange, freePort } from './helpers/net';
import { HELLO, oneFrontend } from './helpers/configs';

const LOG_MODULE = join(__dirname, '../src/log/log.js');

/** A line of `--log-format text`: time, level, pid, message, then the other fields as JSON. */
function textLine(msg: string, fields: string): RegExp {
  return new RegExp(`^\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} [+-]\\d{4}\\] INFO \\(\\d+\\): ${msg} \\{.*${fields}.*\\}$`, 'm');
}

test('--log-format text: the master, worker processes and worker threads all write lines for people, to the last one', async () => {
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, HELLO, { global: { threads: 2 } }), { args: ['--log-format', 'text'], waitReady: false });
  try {
    await ferry.until(() => textLine('ready', '"role":"master"').test(ferry.stdout), 15_000, 'the text "ready" line');
    await exchange(port, '', { end: false });
    await ferry.until(() => textLine('session', '"role":"worker"').test(ferry.stdout), 10_000, 'a text access-log line');
  } finally {
    assert.is((await ferry.stop()).code, 0);
  }
  for (const thread of [0, 1]) assert.match(ferry.stdout, textLine('thread stopping: no longer accepting', `"thread":${thread}`));
  assert.match(ferry.stdout, /\): stopped \{"role":"master"\}\n$/);
  assert.equal(ferry.logs, [], 'no JSON line');
});

test('pino-pretty loads only for the text format (a JSON logger starts without it)', () => {
  // A fresh process: this one may have loaded it for another test.
  const loads = (format: string): boolean => {
    const script = `require(${JSON.stringify(LOG_MODULE)}).createLogger({ level: 'info', format: '${format}', access: true }, { role: 'worker' });
      process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('/pino-pretty/'))));`;
    return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).endsWith('true');
  };
  assert.is(loads('json'), false);
  assert.is(loads('journal'), false);
  assert.is(loads('text'), true);
});

test('a bad log format is refused, naming what is expected', async () => {
  const flag = await runCli(['check', '--no-bind', '--log-format', 'pretty']);
  assert.is(flag.code, 2);
  assert.match(flag.stderr, '--log-format: expected json, text or journal, found "pretty"');
  const set = await runCli(['check', '--no-bind', '--set', 'global.log.format=xml']);
  assert.is(set.code, 1);
  assert.match(set.stderr, 'global.log.format: expected one of "json", "text", "journal", found "xml"');
  const ok = await runCli(['check', '--no-bind', '--log-format', 'text']);
  assert.is(ok.code, 0, ok.stderr);
});

test.run();
