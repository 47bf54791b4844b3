// node-unix-socket's native binding, one optional package per platform: the lock gives each
// platform its own package (never another platform's binary under its name), and where none is
// installed ferry says at start which package is missing.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI, tmpPath } from './helpers/ferry';

const ROOT = join(__dirname, '..', '..');
const read = (path: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;

interface LockEntry {
  name?: string;
  version: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optional?: boolean;
}

/** Runs the CLI as if on another platform: a preload changes what process.platform and process.arch say. */
async function ferryOn(platform: string, arch: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const preload = tmpPath(`as-${platform}-${arch}.js`);
  writeFileSync(preload, `Object.defineProperty(process, 'platform', { value: '${platform}' });\nObject.defineProperty(process, 'arch', { value: '${arch}' });\n`);
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-r', preload, CLI, 'check', '--no-bind'], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const nodeUnixSocket = JSON.parse(readFileSync(require.resolve('node-unix-socket/package.json'), 'utf8')) as { version: string };

for (const [platform, arch, pkg] of [
  ['linux', 'arm64', 'node-unix-socket-linux-arm64-gnu'],
  ['linux', 'arm', 'node-unix-socket-linux-arm-gnueabihf'],
  ['darwin', 'arm64', 'node-unix-socket-darwin-arm64'],
]) {
  test(`without its binding (${platform} ${arch}), ferry stops at start naming ${pkg}`, async () => {
    const r = await ferryOn(platform, arch);
    assert.is(r.code, 1);
    assert.is(r.stdout, '');
    assert.ok(r.stderr.startsWith(`ferry: node-unix-socket has no native binding here (${platform} ${arch}): the package ${pkg} is not installed.\n`), r.stderr);
    assert.match(r.stderr, `Install ${pkg}@${nodeUnixSocket.version} from a registry that has it`);
    assert.not.match(r.stderr, /Require stack|at Module\./, 'no stack trace');
  });
}

test('on a platform node-unix-socket has no package for, ferry says it runs on Linux', async () => {
  const r = await ferryOn('freebsd', 'x64');
  assert.is(r.code, 1);
  assert.match(r.stderr, /has no native binding for freebsd x64 \(it would be node-unix-socket-freebsd-x64\); ferry runs on Linux/);
});

test('ferry is declared Linux-only and overrides no node-unix-socket package', () => {
  const pkg = read('package.json') as { os?: string[]; overrides?: Record<string, unknown> };
  assert.equal(pkg.os, ['linux']);
  assert.equal(Object.keys(pkg.overrides ?? {}).filter((name) => name.startsWith('node-unix-socket')), []);
});

test("the lock gives each of node-unix-socket's platform packages its own name, platform and version", () => {
  const lock = read('package-lock.json') as { packages: Record<string, LockEntry & { optionalDependencies?: Record<string, string> }> };
  const parent = lock.packages['node_modules/node-unix-socket'];
  const platforms = Object.entries(parent.optionalDependencies ?? {});
  assert.ok(platforms.length >= 2, 'node-unix-socket lists its platform packages');
  const CPU: Record<string, string> = { x64: 'x64', arm64: 'arm64', arm: 'arm' };
  for (const [name, version] of platforms) {
    const entry = lock.packages[`node_modules/${name}`];
    assert.ok(entry, `${name} is in the lock (npm ci refuses a lock without it)`);
    assert.is(entry.name, undefined, `${name} is not an alias of another package`);
    assert.is(entry.version, version, name);
    assert.is(entry.optional, true, name);
    const [, os, cpu, abi] = /^node-unix-socket-(linux|darwin)-(x64|arm64|arm)(?:-(gnu|musl|gnueabihf))?$/.exec(name) ?? [];
    assert.ok(os, `${name}: a platform package`);
    assert.equal(entry.os, [os], `${name}: os`);
    assert.equal(entry.cpu, [CPU[cpu]], `${name}: cpu`);
    if (abi === 'gnu') assert.equal(entry.libc, ['glibc'], `${name}: libc`);
    else if (abi === 'musl') assert.equal(entry.libc, ['musl'], `${name}: libc`);
    else assert.is(entry.libc, undefined, `${name}: libc`);
  }
});

test.run();
