// What `npm pack` puts in the package: what a user runs (dist/bin, dist/src, dist/master,
// dist/workers), the library entry's types, the examples and units (etc/), README and LICENSE; no
// tests, benchmarks or source maps. Packs with --dry-run on the dist/ that the test run built.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { npmEnv } from './helpers/npm';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  main: string;
  types: string;
  exports: Record<string, string | Record<string, string>>;
};

interface Packed {
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

let packed: Packed | undefined;
async function dryRun(): Promise<Packed> {
  // --ignore-scripts: prepack would rebuild dist/ under the running tests.
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, env: npmEnv(), timeout: 60_000 });
  return (packed ??= (JSON.parse(stdout) as Packed[])[0]);
}

const ALLOWED = /^(package\.json|README\.md|LICENSE|etc\/[^/].*|dist\/(bin|src|master|workers)\/.+\.js|dist\/src\/.+\.d\.ts)$/;

test('the package holds what a user runs and reads, and nothing else', async () => {
  const paths = (await dryRun()).files.map((f) => f.path);
  const stray = paths.filter((p) => !ALLOWED.test(p) || /(^|\/)(test|bench)\/|\.map$/.test(p));
  assert.equal(stray, [], 'no test, bench, source map or other file');
  for (const needed of [
    'package.json',
    'README.md',
    'LICENSE',
    'dist/bin/ferry.js',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/master/master.js',
    'dist/workers/worker.js',
    'dist/workers/thread.js',
    'etc/ferry.json',
    'etc/systemd/ferry.service',
    'etc/systemd/ferry.socket',
  ]) {
    assert.ok(paths.includes(needed), needed);
  }
});

test('the package is under 1 MB unpacked', async () => {
  const { size, unpackedSize } = await dryRun();
  assert.ok(unpackedSize < 1_000_000, `unpacked ${unpackedSize} bytes (tarball ${size})`);
});

test('bin, main, types and exports name packed files, and every relative import of a packed file is packed', async () => {
  const paths = new Set((await dryRun()).files.map((f) => f.path));
  const targets = [...Object.values(pkg.bin), pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
  for (const target of targets) assert.ok(paths.has(normalize(target)), target);

  const missing: string[] = [];
  for (const path of paths) {
    const types = path.endsWith('.d.ts');
    if (!types && !path.endsWith('.js')) continue;
    const text = readFileSync(join(ROOT, path), 'utf8');
    const specifiers = types ? text.matchAll(/(?:from |import\()['"](\.{1,2}\/[^'"]+)['"]/g) : text.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g);
    for (const [, specifier] of specifiers) {
      const base = join(dirname(path), specifier);
      const candidates = types ? [`${base}.d.ts`, join(base, 'index.d.ts')] : [base, `${base}.js`, join(base, 'index.js')];
      if (!candidates.some((c) => paths.has(c))) missing.push(`${path}: ${specifier}`);
    }
  }
  // Files a worker loads by path: the cluster's worker entry and each thread's.
  for (const entry of ['dist/workers/worker.js', 'dist/workers/thread.js']) if (!paths.has(entry)) missing.push(entry);
  assert.equal(missing, []);
});

test.run();
