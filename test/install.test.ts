// From a release tarball to a running ferry: `npm pack`, then the tarball installed as a user would,
// with `npm install --omit=dev` in an empty project and with the README's `npm install -g --prefix`,
// then the installed ferry checks the example configuration, serves, and stops.
// ferry's dependencies come from the npm registry (from npm's cache when it has them): without an
// answer from the registry these tests skip, saying so.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ECHO, oneFrontend } from './helpers/configs';
import { FerryProcess, tmpPath, writeConfig } from './helpers/ferry';
import { exchange, freePort } from './helpers/net';
import { npmEnv } from './helpers/npm';

const ROOT = join(__dirname, '..', '..');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
/** An install fetches a few dozen packages; this bounds a slow registry. */
const INSTALL_TIMEOUT_MS = 180_000;

function registryAnswers(): string | undefined {
  try {
    execFileSync('npm', ['ping', '--color=false', '--fetch-retries=0'], { env: npmEnv(), timeout: 20_000, stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const e = err as { stderr?: Buffer; signal?: string; message: string };
    if (e.signal) return 'no answer in 20 s';
    const lines = e.stderr?.toString().replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n') ?? [];
    return (lines.find((l) => /^npm error (?!code|syscall|errno)\S/.test(l)) ?? lines.pop() ?? e.message).slice(0, 200);
  }
}

const offline = registryAnswers();
if (offline !== undefined) console.error(`install.test: skipped: the npm registry does not answer (npm ping: ${offline}); these tests install ferry's dependencies from it`);
const online = offline === undefined ? test : test.skip;

async function npm(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('npm', ['--no-audit', '--no-fund', ...args], { cwd, env: npmEnv(), timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

async function run(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, { cwd, env: npmEnv(), timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let tarball: string | undefined;
/** The tarball of this checkout, packed once. --ignore-scripts: dist/ is the one this test run built, which prepack would rebuild under the running tests. */
async function pack(): Promise<string> {
  if (tarball !== undefined) return tarball;
  const dir = tmpPath('pack');
  mkdirSync(dir);
  const [packed] = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as { filename: string }[];
  tarball = join(dir, packed.filename);
  assert.is(packed.filename, `ferry-${version}.tgz`);
  return tarball;
}

/** The installed ferry serves a frontend of its own, then stops on SIGTERM with status 0. */
async function serves(bin: string): Promise<void> {
  const port = await freePort();
  const control = tmpPath(`installed-${port}.sock`);
  const file = writeConfig(oneFrontend(port, ECHO, { global: { masterSocket: control } }));
  const ferry = new FerryProcess(spawn(bin, ['start', '-c', file], { env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] }), control);
  try {
    await Promise.race([
      ferry.waitMsg('ready', 20_000),
      ferry.exited.then(({ code }) => {
        throw new Error(`the installed ferry exited with ${code} before ready\n${ferry.stderr}${ferry.stdout}`);
      }),
    ]);
    assert.is(String((await exchange(port, 'through the installed ferry')).data), 'through the installed ferry');
  } finally {
    const { code } = await ferry.stop();
    assert.is(code, 0, ferry.stderr);
  }
}

online('npm install --omit=dev of the packed tarball in an empty project: its ferry checks the example, serves and stops', async () => {
  const project = tmpPath('project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-ferry', version: '1.0.0', private: true }));
  await npm(['install', '--omit=dev', '--prefer-offline', await pack()], project);

  const installed = join(project, 'node_modules', 'ferry');
  assert.ok(lstatSync(installed).isDirectory(), 'a copy, not a link');
  assert.not.ok(existsSync(join(project, 'node_modules', 'typescript')), 'no dev dependency');
  assert.not.ok(existsSync(join(installed, 'test')) || existsSync(join(installed, 'dist', 'test')), 'no tests');
  const bin = join(project, 'node_modules', '.bin', 'ferry');

  const check = await run(bin, ['check', '--no-bind', '-c', join(installed, 'etc', 'ferry.json')], project);
  assert.is(check.code, 0, check.stderr);
  assert.match(check.stdout, /is valid/);
  const v = await run(bin, ['--version'], project);
  assert.is(v.stdout, `${version}\n`);
  // The library entry, from the project that installed it.
  const lib = await run(process.execPath, ['-e', `const r = require('ferry').checkConfig({ file: ${JSON.stringify(join(installed, 'etc', 'ferry.json'))}, env: {} }); process.stdout.write(JSON.stringify([r.problems, Object.keys(r.config.frontends)]))`], project);
  assert.equal(JSON.parse(lib.stdout || 'null'), [[], ['web', 'local', 'greeter', 'stats']], lib.stderr);

  await serves(bin);
});

online("npm install -g --prefix of the tarball, the README's recipe: a real copy, its command where the unit's ExecStart looks", async () => {
  // The recipe's prefix, under a temporary root instead of /.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const recipe = /^npm install -g --prefix (\S+) \.\/ferry-x\.y\.z\.tgz/m.exec(readme);
  assert.ok(recipe, "README's install line");
  const service = readFileSync(join(ROOT, 'etc', 'systemd', 'ferry.service'), 'utf8');
  const execStart = /^ExecStart=(\S+) start /m.exec(service)![1];
  assert.is(execStart, `${recipe![1]}/bin/ferry`, "the unit's ExecStart is the recipe's command");

  const root = tmpPath('root');
  const prefix = join(root, recipe![1]);
  await npm(['install', '-g', '--prefer-offline', '--prefix', prefix, await pack()], ROOT);

  const bin = join(root, execStart);
  const lib = join(prefix, 'lib', 'node_modules', 'ferry');
  assert.ok(lstatSync(lib).isDirectory(), `${lib}: a copy, not a link into the checkout`);
  assert.is(realpathSync(bin), join(lib, 'dist', 'bin', 'ferry.js'));
  assert.ok(relative(ROOT, realpathSync(bin)).startsWith('..'), 'nothing of the checkout');
  const check = await run(bin, ['check', '--no-bind', '-c', join(lib, 'etc', 'ferry.json')], root);
  assert.is(check.code, 0, check.stderr);
  await serves(bin);
});

test.run();
