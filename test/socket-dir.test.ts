import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, startFerry, tmpPath, writeConfig } from './helpers/ferry';
import { freePort } from './helpers/net';
import { AS_NOBODY, CANNOT_SWITCH, NOBODY, NOT_ROOT, writeShared } from './helpers/nobody';
import { ECHO, HELLO, oneFrontend } from './helpers/configs';

const rootTest = NOT_ROOT === undefined ? test : test.skip;
const nobodyTest = CANNOT_SWITCH === undefined ? test : test.skip;
if (CANNOT_SWITCH !== undefined) console.log(`socket-dir.test: tests that give directories to other users are skipped: ${CANNOT_SWITCH}`);

/** A throwaway user: a uid that no account in /etc/passwd has, which root can give files to. */
const OTHER = (() => {
  const taken = new Set(readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => Number(l.split(':')[2])));
  let uid = 40000;
  while (taken.has(uid)) uid++;
  return uid;
})();

/** A directory that root owns with mode 1777, as /tmp: safe to hold other users' directories. */
function stickyTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sticky-'));
  chmodSync(dir, 0o1777);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A directory made beforehand by the throwaway user, mode 0777: anyone may swap what is in it. */
function plantedDir(path: string): string {
  mkdirSync(path);
  chmodSync(path, 0o777);
  chownSync(path, OTHER, OTHER);
  return path;
}

/** The environment of a non-root master with neither systemd's nor the login's runtime directory. */
function plainEnv(tmp: string): Record<string, string> {
  return { TMPDIR: tmp, XDG_RUNTIME_DIR: '', RUNTIME_DIRECTORY: '' };
}

nobodyTest('another user\'s 0777 <tmp>/ferry-UID made beforehand is refused as the default master socket directory, saying what to do', async () => {
  const tmp = stickyTmp();
  const planted = plantedDir(join(tmp, `ferry-${NOBODY}`));
  const port = await freePort();
  const config = writeShared(`socket-dir-${port}.json`, JSON.stringify(oneFrontend(port, HELLO)));
  const r = await runCli(['start', '-c', config], plainEnv(tmp), AS_NOBODY);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, `ferry: cannot start: global.masterSocket "${planted}/ferry.sock": "${planted}" belongs to uid ${OTHER}, not to user nobody (uid ${NOBODY}) or root`);
  assert.match(r.stderr, /another user could remove or replace the socket there\. Use a directory that belongs to you or root and that only its owner can write \(chmod go-w\), or remove it so that ferry creates its own/);
  assert.not.ok(existsSync(join(planted, 'ferry.sock')), 'no socket was made there');

  // check says the same, before any start.
  const check = await runCli(['check', '--no-bind', '-c', config], plainEnv(tmp), AS_NOBODY);
  assert.is(check.code, 1);
  assert.match(check.stderr, `is valid but its master socket cannot be made:\n  - global.masterSocket "${planted}/ferry.sock": "${planted}" belongs to uid ${OTHER}`);

  // Once it is gone, the master may make its own.
  rmSync(planted, { recursive: true });
  const ok = await runCli(['check', '--no-bind', '-c', config], plainEnv(tmp), AS_NOBODY);
  assert.is(ok.code, 0, ok.stderr);
});

rootTest('a master socket directory others can write to is refused, even one of the master\'s own user', async () => {
  const dir = join(stickyTmp(), 'open');
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  const port = await freePort();
  const r = await runCli(['start', '-c', writeConfig(oneFrontend(port, ECHO)), '--set', `global.masterSocket=${dir}/ferry.sock`]);
  assert.is(r.code, 1);
  assert.match(r.stderr, `global.masterSocket "${dir}/ferry.sock": "${dir}" can be written by every user (mode 0777): another user could remove or replace the socket there`);
  chmodSync(dir, 0o775);
  const group = await runCli(['check', '--no-bind', '-c', writeConfig(oneFrontend(port, ECHO)), '--set', `global.masterSocket=${dir}/ferry.sock`]);
  assert.match(group.stderr, `"${dir}" can be written by its group (mode 0775)`);
  // Sticky, as /tmp, is fine: only a file's owner may remove or rename it there.
  chmodSync(dir, 0o1777);
  const ferry = await startFerry(oneFrontend(port, ECHO), { args: ['--set', `global.masterSocket=${dir}/ferry.sock`] });
  await ferry.stop();
});

rootTest('a directory that global.masterSocketAccess.user owns is the socket\'s own: accepted', async () => {
  const dir = join(stickyTmp(), 'theirs');
  mkdirSync(dir, { mode: 0o710 });
  chownSync(dir, NOBODY, 0);
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, ECHO), {
    args: ['--set', `global.masterSocket=${dir}/ferry.sock`, '--set', 'global.masterSocketAccess={"user":"nobody"}'],
  });
  try {
    assert.is(statSync(join(dir, 'ferry.sock')).uid, NOBODY);
  } finally {
    await ferry.stop();
  }
});

rootTest('the UDP redispatch directory is not made in a directory others can write to', async () => {
  const open = join(stickyTmp(), 'open');
  plantedDir(open);
  const port = await freePort();
  const r = await runCli(['start', '-c', writeConfig(oneFrontend(port, ECHO)), '--set', `global.masterSocket=${tmpPath(`dgram-${port}.sock`)}`], { RUNTIME_DIRECTORY: open });
  assert.is(r.code, 1);
  assert.match(r.stderr, `ferry: cannot start: cannot put the groups' datagram sockets in "${open}": "${open}" belongs to uid ${OTHER}, not to root, and another user could replace the directory ferry makes there; set RUNTIME_DIRECTORY or TMPDIR to a directory that belongs to you or root and that only its owner can write (chmod go-w)`);
});

nobodyTest('check tries the master socket\'s path as start does: a directory the user cannot create, a path too long', async () => {
  const root = join(stickyTmp(), 'root-only');
  mkdirSync(root, { mode: 0o755 });
  const port = await freePort();
  const config = writeShared(`socket-path-${port}.json`, JSON.stringify(oneFrontend(port, HELLO)));
  const socket = ['--set', `global.masterSocket=${root}/ferry/ferry.sock`];
  const check = await runCli(['check', '-c', config, ...socket], {}, AS_NOBODY);
  assert.is(check.code, 1, 'check no longer passes what start refuses');
  const why = `global.masterSocket "${root}/ferry/ferry.sock": "${root}/ferry" does not exist and "${root}", where it would be created, cannot be written by uid ${NOBODY} (EACCES): choose a directory that user can write, or create this one for it`;
  assert.match(check.stderr, `is valid but its master socket cannot be made:\n  - ${why}\n`);
  const start = await runCli(['start', '-c', config, ...socket], {}, AS_NOBODY);
  assert.is(start.code, 1);
  assert.match(start.stderr, `ferry: cannot start: ${why}\n`);

  const long = `${root}/${'d'.repeat(120)}/ferry.sock`;
  const tooLong = await runCli(['check', '--no-bind', '-c', config, '--set', `global.masterSocket=${long}`]);
  assert.is(tooLong.code, 1);
  assert.match(tooLong.stderr, `- global.masterSocket "${long}": the path is too long for a Unix socket (${Buffer.byteLength(long)} bytes, at most 107): choose a shorter one`);
});

test.run();
