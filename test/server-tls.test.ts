import { copyFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TestCa } from './helpers/certs';
import { oneFrontend } from './helpers/configs';
import { firstCheckResult } from './helpers/control';
import { reloadWith, runCli, startFerry, tmpPath, writeConfig } from './helpers/ferry';
import { statusOf } from './helpers/http';
import { exchange, freePort } from './helpers/net';
import { nginx, NO_NGINX, type Peer } from './helpers/peers';

if (NO_NGINX !== undefined) console.log(`server-tls.test: the nginx tests are skipped: ${NO_NGINX}`);
const withNginx = NO_NGINX === undefined ? test : test.skip;

// The servers' CA, a CA that signed none of them, and nginx's certificates: for app.test, the same
// expired, each with its key.
const ca = new TestCa('server-tls-ca');
const stranger = new TestCa('server-tls-stranger');
const good = ca.issue('app', ['app.test']);
const expired = ca.issue('old', ['app.test'], 'app.test', -1);

const REQUEST = 'GET / HTTP/1.0\r\nHost: app.test\r\n\r\n';

/** nginx over TLS with `cert`, answering "tls ok". */
function tlsServer(cert: { cert: string; key: string }): Promise<Peer> {
  return nginx('ssl', `ssl_certificate ${cert.cert}; ssl_certificate_key ${cert.key}; location / { return 200 "tls ok\\n"; }`);
}

function backendFor(server: Peer, tls: object, extra: object = {}): object {
  return { servers: { n: { address: `127.0.0.1:${server.port}`, tls, ...extra } } };
}

withNginx('HTTP and TCP mode: a server whose certificate the CA signed for the SNI name is served, verified', async () => {
  const server = await tlsServer(good);
  try {
    for (const mode of ['http', 'tcp']) {
      const port = await freePort();
      const ferry = await startFerry(oneFrontend(port, backendFor(server, { ca: ca.cert, sni: 'app.test' }), { frontend: { mode } }));
      try {
        const { data } = await exchange(port, REQUEST);
        assert.is(statusOf(data), 200, mode);
        assert.match(String(data), 'tls ok');
      } finally {
        await ferry.stop();
      }
    }
  } finally {
    await server.stop();
  }
});

const REFUSALS: [name: string, cert: () => { cert: string; key: string }, tls: () => object, reason: string][] = [
  ['a CA that did not sign it', () => good, () => ({ ca: stranger.cert, sni: 'app.test' }), 'unable to verify the first certificate'],
  ['an expired certificate', () => expired, () => ({ ca: ca.cert, sni: 'app.test' }), 'certificate has expired'],
  ['a name it is not for', () => good, () => ({ ca: ca.cert, sni: 'other.test' }), "Hostname/IP does not match certificate's altnames"],
];

for (const [name, cert, tls, reason] of REFUSALS) {
  withNginx(`a server with ${name}: 502, a log line naming the server and the reason, and its TLS check fails the same way`, async () => {
    const server = await tlsServer(cert());
    const port = await freePort();
    const ferry = await startFerry({
      global: { groups: 1 },
      frontends: { web: { bind: [`127.0.0.1:${port}`], mode: 'http', backend: 'app' } },
      // The same server twice: requests go to "app", "checked" only checks it.
      backends: { app: backendFor(server, tls()), checked: backendFor(server, tls(), { check: { interval: '200ms' } }) },
    });
    try {
      const { data } = await exchange(port, REQUEST);
      assert.is(statusOf(data), 502);
      const line = await ferry.waitMsg('request');
      assert.is(line.status, 502);
      assert.is(line.termination, 'SC');
      assert.match(String(line.reason), 'TLS to server n failed: ');
      assert.match(String(line.reason), reason);
      // The first check decides at once: the server goes DOWN with the reason.
      const down = await ferry.waitLog((l) => l.msg === 'server state changed' && l.to === 'DOWN');
      assert.is(down.backend, 'checked');
      assert.match(String(down.reason), 'check: TLS: ');
      assert.match(String(down.reason), reason);
    } finally {
      await ferry.stop();
      await server.stop();
    }
  });
}

withNginx('TCP mode: a refused certificate ends the session SC with the reason in its log line', async () => {
  const server = await tlsServer(good);
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, backendFor(server, { ca: stranger.cert, sni: 'app.test' })));
  try {
    const { data } = await exchange(port, REQUEST);
    assert.is(data.length, 0);
    const line = await ferry.waitMsg('session');
    assert.is(line.termination, 'SC');
    assert.match(String(line.reason), 'unable to verify the first certificate');
  } finally {
    await ferry.stop();
    await server.stop();
  }
});

withNginx('TLS checks (tcp and http) pass when the certificate verifies; a reload with a changed CA file takes effect', async () => {
  const server = await tlsServer(good);
  const port = await freePort();
  const caFile = tmpPath('server-tls-changing-ca.crt');
  copyFileSync(stranger.cert, caFile);
  const config = oneFrontend(port, backendFor(server, { ca: caFile, sni: 'app.test' }), { frontend: { mode: 'http' } });
  const file = writeConfig(config);
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    assert.is(statusOf((await exchange(port, REQUEST)).data), 502, 'the CA file names the wrong CA');
    copyFileSync(ca.cert, caFile);
    assert.is((await reloadWith(ferry, file, config)).msg, 'reload done');
    assert.is(statusOf((await exchange(port, REQUEST)).data), 200, 'the reload read the CA file again');
  } finally {
    await ferry.stop();
  }
  try {
    for (const [type, result] of [['tcp', 'TLS handshake done'], ['http', 'HTTP 200']]) {
      const checked = await startFerry(oneFrontend(port, backendFor(server, { ca: ca.cert, sni: 'app.test' }, { check: { type, interval: '100ms' } })));
      try {
        assert.equal(await firstCheckResult(checked.control), { ok: true, result }, type);
      } finally {
        await checked.stop();
      }
    }
  } finally {
    await server.stop();
  }
});

test('a TLS file that cannot be used refuses check, naming the server and the file', async () => {
  const missing = tmpPath('no-such-ca.crt');
  const bad = {
    frontends: { web: { bind: '127.0.0.1:1', backend: 'app' } },
    backends: { app: { tls: { ca: missing, key: good.key }, servers: { n: { address: '127.0.0.1:2' }, m: { address: '127.0.0.1:3', tls: { cert: good.key } } } } },
  };
  const r = await runCli(['check', '-c', writeConfig(bad), '--no-bind']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, `backends.app.servers.n.tls.ca: CA ${JSON.stringify(missing)} does not exist`);
  assert.match(r.stderr, 'backends.app.servers.n.tls.key: a key without "cert"');
  assert.match(r.stderr, `backends.app.servers.m.tls.cert: ${JSON.stringify(good.key)} holds a private key but no certificate`);
});

test.run();
