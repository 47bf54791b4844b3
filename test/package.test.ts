// What `npm pack` puts in the package: what a user runs (dist/bin, dist/src, dist/master,
// dist/workers), the library entry's types, the examples and units (etc/), README and LICENSE; no
// tests, benchmarks or source maps. Packs with --dry-run on the dist/ that the test run built.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tmpPath } from './helpers/ferry';
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

const ALLOWED = /^(package\.json|README\.md|LICENSE|etc\/[^/].*|dist\/(bin|src|master|workers)\/.+\.js|dist\/src\/.+\.d\.ts|scripts\/build-dist\.cjs)$/;

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

// What `npm pack` writes stays under 1 MB (issue 17); unpacked, 1.5 MB leaves room for ferry's own
// code to grow while tests, bench or source maps (3.4 MB once) would still not fit.
test('the package is under 1 MB packed and 1.5 MB unpacked', async () => {
  const { size, unpackedSize } = await dryRun();
  assert.ok(size < 1_000_000, `tarball ${size} bytes`);
  assert.ok(unpackedSize < 1_500_000, `unpacked ${unpackedSize} bytes (tarball ${size})`);
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

/** Runs scripts/build-dist.cjs, as npm runs it for `event`, in a copy of the checkout without node_modules. */
async function buildScript(dir: string, event: 'prepare' | 'prepack', command: string, nodePath = ''): Promise<{ code: number; stderr: string }> {
  const env = npmEnv({ npm_lifecycle_event: event, npm_command: command, NODE_PATH: nodePath });
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [join(dir, 'scripts', 'build-dist.cjs')], { cwd: dir, env, timeout: 30_000 });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

test('without the compiler (npm ci --omit=dev), prepare succeeds and says dist/ is not built; prepack fails unless dist/ was built', async () => {
  const dir = tmpPath('no-compiler');
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  copyFileSync(join(ROOT, 'scripts', 'build-dist.cjs'), join(dir, 'scripts', 'build-dist.cjs'));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));

  const prepare = await buildScript(dir, 'prepare', 'ci');
  assert.is(prepare.code, 0, prepare.stderr);
  assert.match(prepare.stderr, /TypeScript, a devDependency, is not installed.*dist\/ is not built/);
  const prepack = await buildScript(dir, 'prepack', 'pack');
  assert.is(prepack.code, 1);
  assert.match(prepack.stderr, /cannot pack: dist\/ is not built/);
  // npm runs prepare right after prepack when it packs: nothing to do then.
  assert.is((await buildScript(dir, 'prepare', 'pack')).code, 0);

  mkdirSync(join(dir, 'dist', 'bin'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'bin', 'ferry.js'), '');
  const packBuilt = await buildScript(dir, 'prepack', 'pack');
  assert.is(packBuilt.code, 0, packBuilt.stderr);
  assert.match(packBuilt.stderr, /packing the dist\/ built before/);
  assert.match((await buildScript(dir, 'prepare', 'install')).stderr, /dist\/ is left as it was built before/);
});

test('in an installed package (no sources), the script does nothing, even where a compiler resolves', async () => {
  // As packed: the script, no tsconfig.json; TypeScript resolves through NODE_PATH, as from a project's node_modules.
  const dir = tmpPath('installed');
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  copyFileSync(join(ROOT, 'scripts', 'build-dist.cjs'), join(dir, 'scripts', 'build-dist.cjs'));
  const nodePath = join(ROOT, 'node_modules');
  for (const [event, command] of [['prepare', 'install'], ['prepack', 'pack']] as const) {
    const r = await buildScript(dir, event, command, nodePath);
    assert.equal(r, { code: 0, stderr: '' }, event);
  }
  // The same with sources builds: the compiler does resolve there.
  writeFileSync(join(dir, 'tsconfig.json'), '{ "compilerOptions": { "noEmit": true }, "files": ["empty.ts"] }');
  writeFileSync(join(dir, 'empty.ts'), 'export {};\n');
  assert.equal(await buildScript(dir, 'prepare', 'install', nodePath), { code: 0, stderr: '' }, 'built');
});

test('package.json builds with the script in prepare and prepack, and ships it without the sources', async () => {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.is(scripts.prepare, 'node scripts/build-dist.cjs');
  assert.is(scripts.prepack, 'node scripts/build-dist.cjs');
  const paths = (await dryRun()).files.map((f) => f.path);
  assert.ok(paths.includes('scripts/build-dist.cjs'), 'the script that package.json names');
  assert.equal(paths.filter((p) => /^(bin|src|master|workers)\//.test(p) || p === 'tsconfig.json' || (p.endsWith('.ts') && !p.endsWith('.d.ts'))), []);
});

test.run();
