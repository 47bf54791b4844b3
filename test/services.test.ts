import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFerry } from './helpers/ferry';
import { exchange, freePort } from './helpers/net';

test('the embedded configuration answers HTTP on its default frontend (hello, /health), echoes on its echo frontend and serves metrics on its stats frontend', async () => {
  const [web, echo, stats] = [await freePort(), await freePort(), await freePort()];
  const ferry = await startFerry(undefined, {
    args: ['--set', `frontends.default.bind=["127.0.0.1:${web}"]`, '--set', `frontends.echo.bind=["127.0.0.1:${echo}"]`, '--set', `frontends.stats.bind=["127.0.0.1:${stats}"]`],
  });
  try {
    const hello = await exchange(web, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(String(hello.data), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(String(hello.data), /\r\n\r\nhello from ferry\n$/);
    const health = await exchange(web, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(String(health.data), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\n$/);
    assert.is(String((await exchange(echo, 'echo me')).data), 'echo me');
    const line = await ferry.waitLog((l) => l.msg === 'session' && l.backend === 'echo');
    assert.is(line.server, '<echo>');
    const request = await ferry.waitLog((l) => l.msg === 'request' && l.backend === 'health');
    assert.is(request.server, '<health>');
    const metrics = await exchange(stats, 'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(String(metrics.data), /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain; version=0\.0\.4[^]*\r\n\r\n# HELP ferry_generation [^]*\nferry_generation 1\n/);
  } finally {
    await ferry.stop();
  }
});

test.run();
