import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDuration } from '../src/config/duration';
import { readConfigFile } from '../src/config/file';
import { CLI, runCli, tmpPath } from './helpers/ferry';

const UNITS = join(__dirname, '..', '..', 'etc', 'systemd');
const EXAMPLE = join(__dirname, '..', '..', 'etc', 'ferry.json');
const ACTIVATED_EXAMPLE = join(__dirname, '..', '..', 'etc', 'ferry-socket-activated.json');
/** Where the units expect ferry: where README's recipe installs it (npm install -g --prefix /usr/local). */
const INSTALLED = '/usr/local/bin/ferry';
const README = join(__dirname, '..', '..', 'README.md');
const ANALYZE = '/usr/bin/systemd-analyze';

const unit = (name: string): string => readFileSync(join(UNITS, name), 'utf8');
/** An example configuration as ferry reads it (JSON with comments). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const example = (file: string): Record<string, any> => readConfigFile(file).data!;

/** Where the analysis can be run: the units, copied, with ferry's path leading to this build. */
function installHere(): string[] {
  const dir = tmpPath('units');
  mkdirSync(dir);
  const ferry = join(dir, 'ferry');
  writeFileSync(ferry, `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(ferry, 0o755);
  return ['ferry.service', 'ferry.socket'].map((name) => {
    const path = join(dir, name);
    writeFileSync(path, unit(name).replaceAll(INSTALLED, ferry));
    return path;
  });
}

if (!existsSync(ANALYZE)) console.error(`units.test: skipped: ${ANALYZE} is not installed (Debian: apt-get install systemd)`);

(existsSync(ANALYZE) ? test : test.skip)('ferry.service and ferry.socket pass systemd-analyze verify without a warning', async () => {
  assert.ok(unit('ferry.service').includes(`ExecStart=${INSTALLED} start`));
  const units = installHere();
  const { stdout, stderr } = await promisify(execFile)(ANALYZE, ['verify', ...units], { timeout: 30_000 });
  const about = `${stdout}${stderr}`.split('\n').filter((l) => /ferry\.(service|socket)/.test(l));
  assert.equal(about, [], 'no message about the units');
});

test('the service is a notify service reloaded with SIGUSR2, and its ExecStartPre is a check ferry accepts', async () => {
  const service = unit('ferry.service');
  for (const line of ['Type=notify', 'NotifyAccess=main', 'ExecReload=/bin/kill -USR2 $MAINPID', 'KillMode=mixed', 'RuntimeDirectory=ferry']) {
    assert.ok(service.split('\n').includes(line), line);
  }
  // systemd's SIGKILL must come only after the master's own hard stop.
  const stopSec = parseDuration(/^TimeoutStopSec=(\S+)$/m.exec(service)![1])!;
  assert.ok(stopSec > parseDuration(example(EXAMPLE).global.hardStopAfter)!, 'TimeoutStopSec > hardStopAfter');
  // V8's JIT needs writable executable memory.
  assert.not.match(service, /^MemoryDenyWriteExecute=/m);
  const pre = /^ExecStartPre=(\S+) (.*)$/m.exec(service)!;
  assert.is(pre[1], INSTALLED);
  for (const example of [EXAMPLE, ACTIVATED_EXAMPLE]) {
    const check = await runCli(pre[2].replace('/etc/ferry/ferry.json', example).split(' '));
    assert.is(check.code, 0, check.stderr);
  }
});

test("README's install recipes put a copy of ferry where the unit looks, whatever npm's own prefix", () => {
  const readme = readFileSync(README, 'utf8');
  const recipes = [...readme.matchAll(/^npm install -g (.*)$/gm)].map((m) => m[1]);
  assert.ok(recipes.length >= 2, 'in Installing and in systemd');
  for (const recipe of recipes) {
    // A tarball is copied; "npm install -g ." would link the checkout, which ProtectHome=yes hides.
    const m = /^--prefix (\S+) \.\/ferry-x\.y\.z\.tgz(\s|$)/.exec(recipe);
    assert.ok(m, recipe);
    assert.is(`${m![1]}/bin/ferry`, INSTALLED, recipe);
  }
  for (const line of unit('ferry.service').split('\n').filter((l) => /^Exec(Start|StartPre)=/.test(l))) {
    assert.ok(line.includes(`=${INSTALLED} `), line);
  }
});

test('the socket unit passes the name that the socket-activated example binds', () => {
  const name = /^FileDescriptorName=(\S+)$/m.exec(unit('ferry.socket'))![1];
  const binds = Object.values(example(ACTIVATED_EXAMPLE).frontends as Record<string, { bind: string | string[] }>).flatMap((f) => f.bind);
  assert.ok(binds.includes(`fd@${name}`), `${JSON.stringify(binds)} has fd@${name}`);
});

test.run();
