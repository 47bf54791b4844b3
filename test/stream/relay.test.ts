// The TCP relay below node's streams (src/stream/relay.ts), driven directly: a client and a server
// on loopback, and between them the two sockets a tunnel holds ("front", accepted from the client,
// and "back", connected to the server), joined by one Pump per direction.

import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pump } from '../../src/stream/relay';
import { readDirectly } from '../../src/conn/handle-reader';
import { plain } from '../../src/conn/stream-handle';
import { socketFrom } from '../../src/conn/handles';
import { dup } from '../helpers/dup';
import { next, until } from '../helpers/layers';
import { listen } from '../helpers/net';

interface Tunnel {
  client: Socket;
  front: Socket;
  back: Socket;
  /** The server's end of `back`. */
  upstream: Socket;
  servers: Server[];
}

/** Client -> front ... back -> upstream, all connected and half-open allowed; nothing relayed yet. */
async function tunnel(): Promise<Tunnel> {
  let upstream: Socket | undefined;
  let front: Socket | undefined;
  const server = createServer({ allowHalfOpen: true }, (s) => (upstream = s));
  const proxy = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => (front = s));
  const client = connect({ port: await listen(proxy), host: '127.0.0.1', allowHalfOpen: true });
  const back = connect({ port: await listen(server), host: '127.0.0.1', allowHalfOpen: true });
  await Promise.all([next(client, 'connect'), next(back, 'connect')]);
  await until(() => upstream !== undefined && front !== undefined, 'both accepts');
  return { client, front: front!, back, upstream: upstream!, servers: [server, proxy] };
}

function close(t: Tunnel): void {
  for (const s of [t.client, t.front, t.back, t.upstream]) s.destroy();
  for (const s of t.servers) s.close();
}

function pumps(t: Tunnel): Pump[] {
  const both = [new Pump(t.front, t.back), new Pump(t.back, t.front)];
  for (const p of both) p.start();
  return both;
}

/** Everything `socket` reads until its end, as one sha256 and a count. */
function drain(socket: Socket): Promise<{ bytes: number; sha: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  return new Promise((resolve) => socket.once('end', () => resolve({ bytes, sha: hash.digest('hex') })));
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

test('plain TCP sockets are plain; a destroyed one is not', async () => {
  const t = await tunnel();
  try {
    assert.ok(plain(t.front));
    assert.ok(plain(t.back));
    t.back.destroy();
    assert.not.ok(plain(t.back));
  } finally {
    close(t);
  }
});

/** Sends 10 MB each way at once through the pumping tunnel; checks both arrive whole; returns them. */
async function tenMbEachWay(t: Tunnel): Promise<[up: Buffer, down: Buffer]> {
  const [up, down] = [randomBytes(10 << 20), randomBytes(10 << 20)];
  const [atServer, atClient] = [drain(t.upstream), drain(t.client)];
  t.client.end(up);
  t.upstream.end(down);
  const [s, c] = await Promise.all([atServer, atClient]);
  assert.is(s.bytes, up.length);
  assert.is(s.sha, sha(up));
  assert.is(c.bytes, down.length);
  assert.is(c.sha, sha(down));
  return [up, down];
}

test('10 MB each way, both at once, arrive whole and in order; the byte counters count them', async () => {
  const t = await tunnel();
  try {
    pumps(t);
    const [up, down] = await tenMbEachWay(t);
    assert.is(t.front.bytesRead, up.length);
    assert.is(t.back.bytesWritten, up.length);
    assert.is(t.back.bytesRead, down.length);
    assert.is(t.front.bytesWritten, down.length);
  } finally {
    close(t);
  }
});

test("sockets HTTP gave up (they read into the thread's slab): each read is copied, and 10 MB each way arrive whole", async () => {
  const t = await tunnel();
  try {
    for (const s of [t.front, t.back]) readDirectly(s, () => assert.unreachable('read before the give-back'))();
    pumps(t);
    await tenMbEachWay(t);
  } finally {
    close(t);
  }
});

test('half-close: the client ends first and the server still answers; then the other way round', async () => {
  for (const first of ['client', 'server'] as const) {
    const t = await tunnel();
    try {
      pumps(t);
      const [ender, answerer] = first === 'client' ? [t.client, t.upstream] : [t.upstream, t.client];
      const [atAnswerer, atEnder] = [drain(answerer), drain(ender)];
      ender.end('question');
      const heard = await atAnswerer;
      assert.is(heard.bytes, 'question'.length, `${first} ended: its bytes and its FIN arrived`);
      answerer.end('answer after the FIN');
      const answered = await atEnder;
      assert.is(answered.bytes, 'answer after the FIN'.length, `${first} ended: the answer still came back`);
    } finally {
      close(t);
    }
  }
});

test('a server that reads nothing: the relay stops reading the client, so what it holds stays bounded; all of it arrives once the server reads', async () => {
  const t = await tunnel();
  try {
    const data = randomBytes(64 << 20);
    t.upstream.pause();
    const arrived = drain(t.upstream);
    pumps(t);
    t.client.end(data);
    await until(() => t.upstream.readableLength >= t.upstream.readableHighWaterMark, 'the server to stop reading', 10_000);
    // Every loopback buffer between front and server together holds well under 32 MB: a relay that
    // kept reading the client would have read past that while the test polls below.
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 5));
      assert.ok(t.front.bytesRead < 32 << 20, `the relay read ${t.front.bytesRead} bytes from the client`);
    }
    assert.ok(process.memoryUsage().arrayBuffers - before < 8 << 20, 'buffers in the process stay bounded');
    t.upstream.resume();
    const got = await arrived;
    assert.is(got.bytes, data.length);
    assert.is(got.sha, sha(data));
  } finally {
    close(t);
  }
});

test('bytes node read before the relay started go first', async () => {
  const t = await tunnel();
  try {
    t.client.write('early ');
    t.front.resume();
    t.front.pause();
    await until(() => t.front.readableLength > 0, 'node to read the early bytes');
    const arrived = drain(t.upstream);
    pumps(t);
    t.client.end('and late');
    const got = await arrived;
    assert.is(got.bytes, 'early and late'.length);
    assert.is(got.sha, sha(Buffer.from('early and late')));
  } finally {
    close(t);
  }
});

test('stop (a hand-over): resolves once the write in flight is in the kernel; node reads the rest, and nothing is lost or reordered', async () => {
  const t = await tunnel();
  try {
    const data = randomBytes(32 << 20);
    t.upstream.pause();
    const arrived = drain(t.upstream);
    const [up] = pumps(t);
    t.client.end(data);
    await until(() => t.upstream.readableLength >= t.upstream.readableHighWaterMark, 'the server to stop reading', 10_000);
    const stopped = up!.stop();
    t.upstream.resume();
    await stopped;
    // The relay is off: an adopting stack takes the rest from its own copy of the socket.
    const adopted = socketFrom(await dup((t.front as unknown as { _handle: object })._handle));
    t.front.destroy();
    adopted.pipe(t.back);
    const got = await arrived;
    assert.is(got.bytes, data.length);
    assert.is(got.sha, sha(data));
  } finally {
    close(t);
  }
});

test('the server resets the connection while the client sends: the server side closes with the error, and the relay stops', async () => {
  const t = await tunnel();
  try {
    pumps(t);
    const closed = next<boolean>(t.back, 'close');
    t.back.on('error', () => {});
    t.client.write(randomBytes(1 << 20));
    t.upstream.resetAndDestroy();
    assert.ok(await closed, 'closed with an error');
    assert.not.ok(plain(t.back));
  } finally {
    close(t);
  }
});

test.run();
