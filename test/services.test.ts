import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFerry } from './helpers/ferry';
import { exchange, freePort } from './helpers/net';

test('the embedded configuration greets on its hello frontend and echoes on its echo frontend', async () => {
  const [hello, echo] = [await freePort(), await freePort()];
  const ferry = await startFerry(undefined, {
    args: ['--set', `frontends.default.bind=["127.0.0.1:${hello}"]`, '--set', `frontends.echo.bind=["127.0.0.1:${echo}"]`],
  });
  try {
    // Nothing sent: the greeting arrives at once, as with `nc`.
    const greeting = await exchange(hello, '', { end: false });
    assert.match(String(greeting.data), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(String(greeting.data), /hello from ferry: pid \d+, group \d, thread 0, generation 1\n$/);
    // And a real HTTP client gets the same.
    const curlLike = await exchange(hello, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(String(curlLike.data), /hello from ferry/);
    assert.is(String((await exchange(echo, 'echo me')).data), 'echo me');
    const line = await ferry.waitLog((l) => l.msg === 'session' && l.backend === 'echo');
    assert.is(line.server, '<echo>');
  } finally {
    await ferry.stop();
  }
});

test.run();
