// The package's library entry ("exports" in package.json): `require('ferry')` and `import ... from
// 'ferry'` give the configuration loader and checker, with no side effect on the host process. The
// imports below go through the package's own name (a self-reference), as a user's code would.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkConfig, ConfigError, loadConfig, validateConfig, version, type Config } from 'ferry';
import { writeConfig } from './helpers/ferry';

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'etc', 'ferry.json');

/** Runs a node script in the checkout, where 'ferry' names this package. */
async function node(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 30_000 });
}

test("require('ferry') neither exits nor prints, and leaves nothing running or listening", async () => {
  const script = `
    const before = new Set(process.listeners('SIGTERM').concat(process.listeners('SIGINT')));
    const resources = process.getActiveResourcesInfo();
    const ferry = require('ferry');
    const seen = {
      exports: Object.keys(ferry).sort(),
      exitCode: process.exitCode ?? null,
      resources: process.getActiveResourcesInfo().slice(resources.length),
      signalListeners: process.listeners('SIGTERM').concat(process.listeners('SIGINT')).filter((l) => !before.has(l)).length,
      native: Object.keys(require.cache).filter((f) => f.endsWith('.node') || f.includes('node-unix-socket')),
    };
    process.stdout.write(JSON.stringify(seen));`;
  const { stdout, stderr } = await node(['-e', script]);
  assert.is(stderr, '');
  const seen = JSON.parse(stdout) as { exports: string[]; exitCode: number | null; resources: string[]; signalListeners: number; native: string[] };
  for (const name of ['checkConfig', 'loadConfig', 'loadConfigOrProblems', 'validateConfig', 'ConfigError', 'version']) {
    assert.ok(seen.exports.includes(name), `exports ${name}`);
  }
  assert.is(seen.exitCode, null);
  assert.equal(seen.resources, []);
  assert.is(seen.signalListeners, 0);
  assert.equal(seen.native, [], 'no native module loaded');
});

test("import { checkConfig } from 'ferry' works from an ES module too", async () => {
  const script = `import { checkConfig, version } from 'ferry';
    const r = checkConfig({ file: ${JSON.stringify(EXAMPLE)}, env: {} });
    console.log(JSON.stringify({ version: version(), problems: r.problems, frontends: Object.keys(r.config.frontends) }));`;
  const { stdout, stderr } = await node(['--input-type=module', '-e', script]);
  assert.is(stderr, '');
  const seen = JSON.parse(stdout) as { version: string; problems: string[]; frontends: string[] };
  assert.match(seen.version, /^\d+\.\d+\.\d+/);
  assert.equal(seen.problems, []);
  assert.ok(seen.frontends.includes('web'));
});

test('checkConfig returns every problem, loadConfig throws them, validateConfig checks an object', () => {
  const ok = checkConfig({ file: EXAMPLE, env: {} });
  const config: Config | undefined = ok.config;
  assert.ok(config);
  assert.is(config!.global.groups, 2);
  assert.equal(ok.problems, []);

  const file = writeConfig({ global: { groups: 0 }, frontends: { web: { bind: ['127.0.0.1:1'], backend: 'nowhere' } }, backends: {} });
  const bad = checkConfig({ file, env: {} });
  assert.is(bad.config, undefined);
  assert.ok(bad.problems.length >= 2, bad.problems.join('\n'));
  assert.throws(() => loadConfig({ file, env: {} }), (err: unknown) => err instanceof ConfigError && err.problems.length === bad.problems.length);

  assert.equal(validateConfig({ frontends: {}, backends: {} }).problems.length > 0, true);
  // --set overrides and FERRY_* variables apply as they do for the CLI.
  assert.is(checkConfig({ file: EXAMPLE, overrides: ['global.groups=3'], env: { FERRY_global__threads: '2' } }).config!.global.threads, 2);
  assert.match(version(), /^\d+\.\d+\.\d+/);
});

test('a TLS bind whose certificate is missing is a problem for checkConfig', () => {
  const file = writeConfig({
    frontends: { web: { bind: [{ address: '127.0.0.1:1', tls: { certs: '/nonexistent/ferry.pem' } }], mode: 'http', backend: 'hello' } },
    backends: { hello: { return: { status: 200 } } },
  });
  const r = checkConfig({ file, env: {} });
  assert.is(r.config, undefined);
  assert.match(r.problems.join('\n'), /nonexistent/);
});

test.run();
