import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sendCommand } from '../src/control/client';
import { selectMux } from '../src/mux';
import { ServerNames } from '../src/conn/tls/sni';
import { TestCa } from './helpers/certs';
import { oneFrontend, serversAt } from './helpers/configs';
import { reloadWith, runCli, startFerry, tmpPath, writeConfig, type FerryProcess } from './helpers/ferry';
import { echoServer, freePort, listen, type TestServer } from './helpers/net';
import { NOT_ROOT } from './helpers/nobody';

// One CA and its certificates for the whole file: a directory with a default certificate, a wildcard
// and a certificate whose key sits beside it, plus broken files for the failure cases.
const ca = new TestCa('tls-ca');
const certs = tmpPath('tls-certs');
mkdirSync(certs);
const alpha = ca.issue('alpha', ['alpha.test', 'www.alpha.test']);
writeFileSync(join(certs, '10-alpha.pem'), alpha.pem);
writeFileSync(join(certs, '20-beta.pem'), ca.issue('beta', ['*.beta.test']).pem);
const gamma = ca.issue('gamma', [], 'gamma.test');
copyFileSync(gamma.cert, join(certs, '30-gamma.crt'));
copyFileSync(gamma.key, join(certs, '30-gamma.key'));

interface Client {
  socket: TLSSocket;
  /** The organisation of the certificate the client got: which of the test certificates it was. */
  served: string;
  /** Sends `text` and waits until it came back whole (through an echo backend). */
  echo(text: string): Promise<void>;
}

function tlsClient(port: number, opts: { servername?: string; alpn?: string[] } = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      port,
      host: '127.0.0.1',
      ca: ca.pem,
      ...(opts.servername !== undefined && { servername: opts.servername }),
      ...(opts.alpn !== undefined && { ALPNProtocols: opts.alpn }),
      // The chain is verified against the test CA; which certificate came is what each test checks.
      checkServerIdentity: () => undefined,
    });
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const served = socket.getPeerCertificate().subject.O as string;
      const echo = (text: string): Promise<void> => {
        const want = received + text;
        socket.write(text);
        return until(() => received === want, () => `got ${JSON.stringify(received)}, waiting for ${JSON.stringify(want)}`);
      };
      resolve({ socket, served, echo });
    });
  });
}

async function until(condition: () => boolean, what: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tlsConfig(port: number, backend: TestServer, tls: object, frontend: object = {}): object {
  return oneFrontend([{ address: `127.0.0.1:${port}`, tls }], { servers: serversAt(['s1', backend.port]) }, { global: { hardStopAfter: '20s' }, frontend });
}

test('SNI names pick the certificate: exact names, a wildcard for one label, the first certificate otherwise', () => {
  const names = new ServerNames([{ names: ['a.test'], value: 'a' }, { names: ['*.b.test', 'b.test'], value: 'b' }], 'default');
  assert.is(names.pick('a.test'), 'a');
  assert.is(names.pick('A.Test.'), 'a');
  assert.is(names.pick('x.b.test'), 'b');
  assert.is(names.pick('b.test'), 'b');
  assert.is(names.pick('x.y.b.test'), 'default', 'a wildcard covers one label only');
  assert.is(names.pick('other.test'), 'default');
  assert.is(names.pick(undefined), 'default');
});

test('the mux follows the mode and ALPN, and tcp mode passes through whatever protocol was agreed', () => {
  assert.is(selectMux('tcp').name, 'pt');
  assert.is(selectMux('tcp', 'h2').name, 'pt');
  assert.is(selectMux('tcp', 'http/1.1').name, 'pt');
});

test('TLS termination: the certificate follows SNI (default without a match), bytes reach a plain backend and come back', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const ferry = await startFerry(tlsConfig(port, echo, { certs }));
  try {
    const cases: [string | undefined, string][] = [
      ['alpha.test', 'alpha'],
      ['www.alpha.test', 'alpha'],
      ['x.beta.test', 'beta'],
      ['x.y.beta.test', 'alpha'],
      ['gamma.test', 'gamma'],
      ['unknown.test', 'alpha'],
      [undefined, 'alpha'],
    ];
    for (const [servername, expected] of cases) {
      const c = await tlsClient(port, { servername });
      assert.is(c.served, expected, `certificate for ${servername ?? 'no SNI'}`);
      await c.echo(`hello ${servername ?? 'nobody'}`);
      c.socket.end();
    }
    const line = await ferry.waitLog((l) => l.msg === 'session' && (l.tls as { servername: string }).servername === 'gamma.test');
    assert.is(line.termination, '--');
    assert.is(line.bytesIn, 'hello gamma.test'.length, 'bytes counted as the backend sees them');
    assert.is((line.tls as { version: string }).version, 'TLSv1.3');
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('ALPN: the configured protocols are negotiated, and tcp mode still relays whatever was agreed', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const ferry = await startFerry(tlsConfig(port, echo, { certs: [join(certs, '10-alpha.pem')], alpn: ['h2', 'http/1.1'] }));
  try {
    for (const [offered, agreed] of [[['http/1.1'], 'http/1.1'], [['h2', 'http/1.1'], 'h2'], [undefined, false]] as const) {
      const c = await tlsClient(port, { servername: 'alpha.test', alpn: offered === undefined ? undefined : [...offered] });
      assert.is(c.socket.alpnProtocol, agreed);
      await c.echo(`over ${String(agreed)}`);
      c.socket.end();
    }
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('curl talks HTTPS to an HTTP backend through a TLS bind', async () => {
  const backend = createServer((_req, res) => res.end('hello over tls\n'));
  const backendPort = await listen(backend);
  const port = await freePort();
  const ferry = await startFerry(tlsConfig(port, { port: backendPort } as TestServer, { certs }));
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile('curl', ['-sS', '--max-time', '10', '--resolve', `www.alpha.test:${port}:127.0.0.1`, '--cacert', ca.cert, `https://www.alpha.test:${port}/`], (err, stdout, stderr) =>
        err ? reject(new Error(`curl failed: ${stderr}`)) : resolve(stdout),
      ),
    );
    assert.is(out, 'hello over tls\n');
  } finally {
    await ferry.stop();
    backend.close();
  }
});

test('a failed or slow handshake is logged and counted, and other clients do not notice', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const ferry = await startFerry(tlsConfig(port, echo, { certs }, { timeout: { handshake: '300ms' } }));
  try {
    const busy = await tlsClient(port, { servername: 'alpha.test' });
    const plain = connectTcp(port, '127.0.0.1');
    plain.on('error', () => {});
    plain.write('GET / HTTP/1.1\r\nHost: alpha.test\r\n\r\n');
    await new Promise((r) => plain.once('close', r));
    const failed = await ferry.waitMsg('tls handshake failed');
    assert.is(failed.termination, 'CT');
    assert.match(String(failed.reason), /wrong version number|http request/i);
    await busy.echo('still here');

    const silent = connectTcp(port, '127.0.0.1');
    const started = Date.now();
    await new Promise((r) => silent.once('close', r));
    assert.ok(Date.now() - started < 3000, 'timeout.handshake closed the silent client');
    const slow = await ferry.waitLog((l) => l.msg === 'tls handshake failed' && l.termination === 'cT');
    assert.match(String(slow.reason), /300ms/);

    await busy.echo(' and here');
    const stat = (await sendCommand(ferry.control, 'show stat')).data as { frontends: { name: string; tls?: { handshakes: number; failures: number } }[] };
    assert.equal(stat.frontends[0].tls, { handshakes: 1, failures: 2 });
    busy.socket.end();
  } finally {
    await ferry.stop();
    await echo.close();
  }
});

test('a reload serves a replaced certificate to new connections; TLS sessions opened before finish in the old generation', async () => {
  await withCertDir('tls-reload', async ({ port, dir, config, file, ferry }) => {
    const before = await tlsClient(port, { servername: 'alpha.test' });
    assert.is(before.served, 'alpha');
    await before.echo('before;');
    writeFileSync(join(dir, 'site.pem'), ca.issue('renewed', ['alpha.test']).pem);
    const outcome = await reloadWith(ferry, file, config);
    assert.is(outcome.msg, 'reload done');
    const after = await tlsClient(port, { servername: 'alpha.test' });
    assert.is(after.served, 'renewed');
    await after.echo('after;');
    await before.echo('after the reload, still in the old generation;');
    assert.is(ferry.logs.some((l) => l.msg === 'old generation exited'), false, 'the old generation waits for its TLS session');
    before.socket.end();
    const gone = await ferry.waitMsg('old generation exited');
    assert.is(gone.handedOver, 0, 'a TLS session never moves');
    assert.is(gone.closedAtHardStop, false);
    after.socket.end();
  });
});

test('a reload with a broken certificate is refused, and the running generation keeps serving', async () => {
  await withCertDir('tls-broken', async ({ port, dir, config, file, ferry }) => {
    const open = await tlsClient(port, { servername: 'alpha.test' });
    writeFileSync(join(dir, 'site.pem'), alpha.pem.replace(/-----BEGIN PRIVATE KEY-----[\s\S]*$/, ''));
    const outcome = await reloadWith(ferry, file, config);
    assert.is(outcome.msg, 'reload refused: the running generation goes on unchanged');
    assert.is(outcome.reason, 'certificates cannot be used');
    assert.match(String((outcome.problems as string[])[0]), /site\.pem" has no private key, and its key file ".*site\.key" does not exist/);
    await open.echo('still served');
    const fresh = await tlsClient(port, { servername: 'alpha.test' });
    assert.is(fresh.served, 'alpha');
    await fresh.echo('new connections too');
    open.socket.end();
    fresh.socket.end();
  });
});

const rootTest = NOT_ROOT === undefined ? test : test.skip;

rootTest('the master reads keys only root can read; workers run as nobody (in worker threads too) and serve TLS; no key in logs or show', async () => {
  const echo = await echoServer();
  const port = await freePort();
  const dir = tmpPath('tls-root-only');
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'site.pem'), alpha.pem, { mode: 0o600 });
  chmodSync(dir, 0o700);
  const config = { ...tlsConfig(port, echo, { certs: dir }), global: { groups: 1, threads: 2, user: 'nobody', group: 'nogroup' } };
  const ferry = await startFerry(config);
  try {
    assert.ok(ferry.logs.some((l) => l.msg === 'privileges dropped'));
    for (let i = 0; i < 4; i++) {
      const c = await tlsClient(port, { servername: 'alpha.test' });
      assert.is(c.served, 'alpha');
      await c.echo(`as nobody ${i}`);
      c.socket.end();
    }
    const shown = await Promise.all(['show info', 'show stat', 'show listeners', 'show sess'].map((c) => sendCommand(ferry.control, c)));
    for (const reply of shown) assert.not.match(JSON.stringify(reply), /PRIVATE KEY|BEGIN CERTIFICATE/);
    assert.not.match(ferry.stdout + ferry.stderr, /PRIVATE KEY|BEGIN CERTIFICATE/);
  } finally {
    await ferry.stop();
    await echo.close();
    rmSync(dir, { recursive: true });
  }
});

/** `ferry check --no-bind` on a frontend whose bind has `tls`; its problems. */
/** A ferry on a TLS bind whose certificates are a directory holding alpha's, for tests that change them. */
async function withCertDir(
  name: string,
  run: (s: { port: number; dir: string; config: object; file: string; ferry: FerryProcess }) => Promise<void>,
): Promise<void> {
  const echo = await echoServer();
  const port = await freePort();
  const dir = tmpPath(name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'site.pem'), alpha.pem);
  const config = tlsConfig(port, echo, { certs: dir });
  const file = writeConfig(config);
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    await run({ port, dir, config, file, ferry });
  } finally {
    await ferry.stop();
    await echo.close();
    rmSync(dir, { recursive: true });
  }
}

async function checkTls(tls: object, address = '127.0.0.1:8443', mode?: string): Promise<{ code: number | null; stderr: string }> {
  const config = oneFrontend([{ address, tls }], { servers: serversAt(['s1', 9000]) }, { frontend: mode === undefined ? {} : { mode } });
  return runCli(['check', '--no-bind', '-c', writeConfig(config)]);
}

test('ferry check refuses certificates it cannot use, naming the file and what to do', async () => {
  const bad = tmpPath('tls-bad');
  mkdirSync(bad);
  const keyOnly = join(bad, 'key-only.pem');
  writeFileSync(keyOnly, readFileSync(alpha.key));
  const noKey = join(bad, 'no-key.pem');
  writeFileSync(noKey, readFileSync(alpha.cert));
  const mismatch = join(bad, 'mismatch.pem');
  writeFileSync(mismatch, readFileSync(alpha.cert, 'utf8') + readFileSync(gamma.key, 'utf8'));
  const garbage = join(bad, 'garbage.pem');
  writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' + readFileSync(alpha.key, 'utf8'));
  const at = 'frontends.web.bind[0].tls.certs';
  const cases: [object, RegExp][] = [
    [{ certs: join(bad, 'missing') }, new RegExp(`${at.replace(/[.[\]]/g, '\\$&')}: ".*missing" does not exist; give a certificate directory or file that does`)],
    [{ certs: [keyOnly] }, /key-only\.pem" holds a private key but no certificate/],
    [{ certs: [noKey] }, /no-key\.pem" has no private key, and its key file ".*no-key\.key" does not exist \(put the key after the certificate chain in the file, or in/],
    [{ certs: [mismatch] }, /mismatch\.pem" the key in the file does not match its certificate \(CN=alpha\.test, O=alpha\); pair the certificate with its own key/],
    [{ certs: [garbage] }, /garbage\.pem" its certificate does not parse/],
    [{ certs: tmpPath('tls-ca') + '/nothing-here' }, /does not exist/],
    [{ certs: [] }, /tls\.certs: expected a certificate directory or file/],
    [{ alpn: ['h2'] }, /tls\.certs: required key is missing/],
    [{ certs, alpn: ['h2', 'h2'] }, /tls\.alpn\[1\]: "h2" is listed twice/],
  ];
  for (const [tls, expected] of cases) {
    const { code, stderr } = await checkTls(tls);
    assert.is(code, 1, `${JSON.stringify(tls)}: ${stderr}`);
    assert.match(stderr, expected);
  }
  const udp = await checkTls({ certs }, 'udp@127.0.0.1:8443', 'udp');
  assert.is(udp.code, 1);
  assert.match(udp.stderr, /bind\[0\]\.tls: TLS applies to TCP binds only, and "udp@127\.0\.0\.1:8443" is a UDP address/);
  const good = await checkTls({ certs, alpn: ['http/1.1'] });
  assert.is(good.code, 0, good.stderr);
  const empty = tmpPath('tls-empty');
  mkdirSync(empty);
  assert.match((await checkTls({ certs: empty })).stderr, /holds no certificate file \(\*\.pem or \*\.crt/);
  rmSync(bad, { recursive: true });
});

test('the example etc/ferry-tls.json is valid but for its certificate files, which this host lacks', async () => {
  const { code, stderr } = await runCli(['check', '-c', join(__dirname, '..', '..', 'etc', 'ferry-tls.json'), '--no-bind']);
  assert.is(code, 1);
  const problems = stderr.split('\n').filter((l) => l.startsWith('  - '));
  assert.equal(problems, [
    '  - frontends.web.bind[1].tls.certs: "/etc/ferry/certs" does not exist; give a certificate directory or file that does',
    '  - frontends.api.bind[0].tls.certs: "/etc/ferry/certs/00-default.pem" does not exist; give a certificate directory or file that does',
    '  - frontends.api.bind[0].tls.certs: "/etc/ferry/api/api.crt" does not exist; give a certificate directory or file that does',
  ]);
});

test.run();
