import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TestCa } from './helpers/certs';
import { oneFrontend } from './helpers/configs';
import { runCli, startFerry, tmpPath, writeConfig } from './helpers/ferry';
import { httpBackend, statusOf } from './helpers/http';
import { freePort } from './helpers/net';

// ferry's certificate from one CA; the clients' from another, which the binds name in clientCa.
const serverCa = new TestCa('client-cert-server-ca');
const clientsCa = new TestCa('client-cert-clients-ca');
const serverPem = tmpPath('client-cert-server.pem');
writeFileSync(serverPem, serverCa.issue('ferry', ['ferry.test']).pem);
const alice = clientsCa.issue('alice', [], 'alice');
const mallory = new TestCa('client-cert-stranger-ca').issue('mallory', [], 'mallory');

/** One HTTP/1.0 request over TLS, with `cert` as the client's certificate; the raw answer, or the error. */
function ask(port: number, cert?: { cert: string; key: string }, extra = ''): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    const socket: TLSSocket = connect({
      port,
      host: '127.0.0.1',
      servername: 'ferry.test',
      ca: serverCa.pem,
      ...(cert !== undefined && { cert: readFileSync(cert.cert), key: readFileSync(cert.key) }),
    });
    let data = '';
    let error: string | undefined;
    socket.setEncoding('utf8').on('data', (c: string) => (data += c));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => resolve({ data, error }));
    socket.on('secureConnect', () => socket.write(`GET /who HTTP/1.0\r\nHost: ferry.test\r\n${extra}\r\n`));
  });
}

function mtlsConfig(port: number, backendPort: number, verifyClient: 'required' | 'optional'): object {
  const bind = { address: `127.0.0.1:${port}`, tls: { certs: serverPem, clientCa: clientsCa.cert, verifyClient } };
  return oneFrontend(bind, { servers: { b: { address: `127.0.0.1:${backendPort}` } } }, { frontend: { mode: 'http', http: { xClientCertSubject: true } } });
}

test('verifyClient "required": a client without a certificate, or with one from another CA, is refused; with one, its subject is logged and sent on', async () => {
  const backend = await httpBackend();
  const port = await freePort();
  const ferry = await startFerry(mtlsConfig(port, backend.port, 'required'));
  try {
    const bare = await ask(port);
    assert.is(bare.data, '', 'no answer without a certificate');
    const refused = await ferry.waitMsg('tls handshake failed');
    assert.match(String(refused.reason), /certificate/i);
    const stranger = await ask(port, mallory);
    assert.is(stranger.data, '', 'no answer with a certificate the clients\' CA did not sign');
    const second = await ferry.waitLog((l) => l.msg === 'tls handshake failed', 10_000, 1);
    assert.match(String(second.reason), 'client certificate refused: ');
    assert.is(backend.seen.length, 0, 'nothing reached the server');

    const served = await ask(port, alice, 'X-Client-Cert-Subject: CN=admin\r\n');
    assert.is(statusOf(served.data), 200, served.error);
    assert.is(backend.seen[0].headers['x-client-cert-subject'], 'CN=alice, O=alice', 'ferry\'s field, the client\'s dropped');
    const line = await ferry.waitMsg('request');
    assert.equal(line.clientCert, { subject: 'CN=alice, O=alice', verified: true });
  } finally {
    await ferry.stop();
    await backend.close();
  }
});

test('verifyClient "optional": a client without a certificate is served, with no subject', async () => {
  const backend = await httpBackend();
  const port = await freePort();
  const ferry = await startFerry(mtlsConfig(port, backend.port, 'optional'));
  try {
    const served = await ask(port);
    assert.is(statusOf(served.data), 200, served.error);
    assert.is(backend.seen[0].headers['x-client-cert-subject'], undefined);
    const line = await ferry.waitMsg('request');
    assert.is(line.clientCert, undefined);
  } finally {
    await ferry.stop();
    await backend.close();
  }
});

test('check refuses verifyClient without clientCa, and a clientCa that does not exist', async () => {
  const missing = tmpPath('no-such-clients-ca.pem');
  const bad = {
    frontends: {
      a: { bind: [{ address: '127.0.0.1:1', tls: { certs: serverPem, verifyClient: 'always' } }], backend: 'b' },
      c: { bind: [{ address: '127.0.0.1:2', tls: { certs: serverPem, clientCa: missing } }], backend: 'b' },
    },
    backends: { b: { service: 'hello' } },
  };
  const r = await runCli(['check', '-c', writeConfig(bad), '--no-bind']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, 'frontends.a.bind[0].tls.verifyClient: expected "required" or "optional"');
  assert.match(r.stderr, 'frontends.a.bind[0].tls.verifyClient: needs "clientCa"');
  // Certificates are read once the configuration is valid: the second problem shows alone.
  const r2 = await runCli(['check', '-c', writeConfig({ ...bad, frontends: { c: bad.frontends.c } }), '--no-bind']);
  assert.is(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, `frontends.c.bind[0].tls.clientCa: CA ${JSON.stringify(missing)} does not exist`);
});

test.run();
