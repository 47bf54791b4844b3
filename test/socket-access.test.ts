import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, startFerry } from './helpers/ferry';
import { freePort } from './helpers/net';
import { AS_NOBODY, CANNOT_SWITCH, NOBODY, freshPath } from './helpers/nobody';
import { ECHO, oneFrontend } from './helpers/configs';

const nobodyTest = CANNOT_SWITCH === undefined ? test : test.skip;
if (CANNOT_SWITCH !== undefined) console.log(`socket-access.test: tests that connect as "nobody" are skipped: ${CANNOT_SWITCH}`);

test('the master socket has mode 0600 by default, and belongs to who started ferry', async () => {
  const ferry = await startFerry(oneFrontend(await freePort(), ECHO));
  try {
    const st = statSync(ferry.control);
    assert.ok(st.isSocket());
    assert.is(st.mode & 0o777, 0o600);
    assert.is(st.uid, process.getuid!());
  } finally {
    await ferry.stop();
  }
});

nobodyTest('global.masterSocketAccess lets a group in, through the directory ferry creates for it', async () => {
  const [shared, closed] = [freshPath('ferry.sock'), freshPath('ferry.sock')];
  const access = ['--set', `global.masterSocket=${shared}`, '--set', 'global.masterSocketAccess={"mode":"0660","group":"nogroup"}'];
  const ferry = await startFerry(oneFrontend(await freePort(), ECHO), { args: access });
  const other = await startFerry(oneFrontend(await freePort(), ECHO), { args: ['--set', `global.masterSocket=${closed}`] });
  try {
    const st = statSync(shared);
    assert.is(st.mode & 0o777, 0o660);
    assert.is(st.gid, NOBODY);
    const dir = statSync(join(shared, '..'));
    assert.is(dir.mode & 0o777, 0o710, 'members of the group may reach the socket, not list the directory');
    assert.is(dir.gid, NOBODY);
    const ctl = await runCli(['ctl', '-s', shared, 'help'], {}, AS_NOBODY);
    assert.is(ctl.code, 0, ctl.stderr);
    assert.match(ctl.stdout, /reload/);

    // The default keeps nobody out, and ferry ctl says why.
    assert.is(statSync(join(closed, '..')).mode & 0o777, 0o700);
    const refused = await runCli(['ctl', '-s', closed, 'help'], {}, AS_NOBODY);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /cannot reach the ferry master at .*: permission denied \(global\.masterSocketAccess sets who may connect/, refused.stderr);
  } finally {
    await Promise.all([ferry.stop(), other.stop()]);
  }
});

test('a bad global.masterSocketAccess is a configuration problem naming the key', async () => {
  const r = await runCli([
    'check', '--no-bind',
    '--set', 'global.masterSocketAccess.mode=660',
    '--set', 'global.masterSocketAccess.owner=me',
    '--set', 'global.masterSocketAccess.group=no-such-group-here',
  ]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /- global\.masterSocketAccess\.mode: expected a file mode such as "0660" \(octal, in a string\) or 432, found 660/);
  assert.match(r.stderr, /- global\.masterSocketAccess\.owner: unknown key \(expected one of: mode, user, group\)/);
  assert.match(r.stderr, /- global\.masterSocketAccess\.group: unknown group "no-such-group-here"/);
  const notObject = await runCli(['check', '--no-bind', '--set', 'global.masterSocketAccess=0660']);
  assert.match(notObject.stderr, /- global\.masterSocketAccess: expected an object with the keys mode, user, group/);
  const ok = await runCli(['check', '--no-bind', '--set', 'global.masterSocketAccess={"mode":"0660","user":"nobody","group":65534}']);
  assert.is(ok.code, 0, ok.stderr);
});

test.run();
