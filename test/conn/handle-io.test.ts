// Reading and writing a socket below node's streams (src/conn/handle-writer.ts,
// src/conn/handle-reader.ts), driven directly on loopback: "near" is the socket ferry would hold,
// "far" its peer.

import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDirectly } from '../../src/conn/handle-reader';
import { HandleWriter } from '../../src/conn/handle-writer';
import { owned } from '../../src/conn/read-slab';
import { restartTimeout, writeReq, type NetSocket } from '../../src/conn/stream-handle';
import { flushed } from '../../src/stream/stream';
import { next, until } from '../helpers/layers';
import { listen } from '../helpers/net';

async function pair(): Promise<{ near: Socket; far: Socket; close(): void }> {
  let far: Socket | undefined;
  const server = createServer({ allowHalfOpen: true }, (s) => (far = s));
  const near = connect({ port: await listen(server), host: '127.0.0.1', allowHalfOpen: true });
  await next(near, 'connect');
  await until(() => far !== undefined, 'the accept');
  return {
    near,
    far: far!,
    close: () => {
      near.destroy();
      far!.destroy();
      server.close();
    },
  };
}

/** Everything `socket` reads until its end. */
function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.once('end', () => resolve(Buffer.concat(chunks))));
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Bytes libuv holds for `socket` that the kernel has not taken. */
const queued = (socket: Socket): number => (socket as unknown as { _handle: { writeQueueSize: number } })._handle.writeQueueSize;

/**
 * Sends `data` in 256 KB pieces with `send` (the piece and its number) until one is not taken
 * whole, to a peer that reads nothing; the bytes sent, that last piece included.
 */
function fillKernel(data: Buffer, send: (piece: Buffer, n: number) => boolean): number {
  let at = 0;
  while (at < data.length && send(data.subarray(at, at + 262144), at / 262144)) at += 262144;
  assert.ok(at < data.length, `the kernel filled up before ${data.length} bytes`);
  return at + 262144;
}

type Pair = Awaited<ReturnType<typeof pair>>;

/** A pair whose far end reads nothing until told, a HandleWriter on its near end, and 16 MB to send; closed after `body`. */
async function stalled(body: (p: Pair, out: HandleWriter, data: Buffer) => Promise<void>): Promise<void> {
  const p = await pair();
  try {
    p.far.pause();
    await body(p, new HandleWriter(p.near), randomBytes(16 << 20));
  } finally {
    p.close();
  }
}

/** What the far end reads from now until the end, once it reads again: `expected`, every byte, in order. */
async function arrives(p: Pair, expected: Buffer, then: () => Promise<void> | void): Promise<void> {
  const got = readAll(p.far);
  p.far.resume();
  await then();
  const all = await got;
  assert.is(all.length, expected.length);
  assert.is(sha(all), sha(expected));
}

test('HandleWriter: strings (latin1) and buffers, corked ones sent together, reach the peer in order, then the end', async () => {
  const p = await pair();
  try {
    const got = readAll(p.far);
    const out = new HandleWriter(p.near);
    assert.ok(out.write('HTTP/1.1 200 OK\r\n'));
    out.cork();
    assert.ok(out.write('x-caf\u00e9: 1\r\n\r\n'));
    assert.ok(out.write(Buffer.from('body')));
    assert.is(p.near.bytesWritten, 17, 'held while corked');
    assert.ok(out.uncork());
    out.cork();
    out.write('held until the end ');
    out.end(Buffer.from('last'));
    assert.equal((await got).toString('latin1'), 'HTTP/1.1 200 OK\r\nx-caf\u00e9: 1\r\n\r\nbodyheld until the end last');
    assert.is(p.near.bytesWritten, 57);
  } finally {
    p.close();
  }
});

test('HandleWriter: a peer that does not read gets back-pressure, then drain, and every byte in order', () =>
  stalled(async (p, out, data) => {
    // Every other piece held by a cork: the cork's release says so as a write does.
    const corked = (piece: Buffer): boolean => (out.cork(), out.write(piece), out.uncork());
    const at = fillKernel(data, (piece, n) => (n % 2 === 0 ? out.write(piece) : corked(piece)));
    assert.ok(queued(p.near) > 0, 'libuv holds the rest of the last piece');
    assert.is(p.near.writableLength, 0, "none of it in node's queue");
    const drained = next(p.near, 'drain');
    await arrives(p, data, async () => {
      await drained;
      // A node write while nothing is pending, then a direct one behind it: node's goes first.
      p.near.write(data.subarray(at, at + 1000));
      out.write(data.subarray(at + 1000));
      out.end();
    });
  }));

test('write requests: one serves every write the kernel takes whole; each write libuv keeps has its own until written', () =>
  stalled(async (p, out, data) => {
    const handle = (p.near as NetSocket)._handle!;
    const spare = writeReq(handle, 0);
    assert.is(writeReq(handle, 0), spare, 'no write kept it: the same request');
    const at = fillKernel(data, (piece) => out.write(piece));
    assert.is.not(writeReq(handle, 0), spare, 'libuv keeps the one it finishes later');
    // Two more behind it, each kept too: a request given twice to libuv would abort the process.
    assert.not.ok(out.write(data.subarray(at, at + 1000)));
    assert.not.ok(out.write(data.subarray(at + 1000)));
    await arrives(p, data, () => out.end());
  }));

/** The timer net.Socket keeps for its timeout. */
function timerOf(socket: Socket): unknown {
  const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'timeout')!;
  return (socket as unknown as Record<symbol, unknown>)[key];
}

test('restartTimeout: a new length restarts the timer the socket has, and the timeout comes after it; a cleared one is armed again', async () => {
  const p = await pair();
  try {
    p.near.setTimeout(3_600_000);
    const timer = timerOf(p.near);
    restartTimeout(p.near, 3_600_000);
    restartTimeout(p.near, 20);
    assert.is(timerOf(p.near), timer, 'the same timer, not a new one');
    assert.is(p.near.timeout, 20);
    // An hour's timer that kept its length would not fire before the test's own timeout.
    await next(p.near, 'timeout');
    p.near.setTimeout(0);
    restartTimeout(p.near, 20);
    await next(p.near, 'timeout');
  } finally {
    p.close();
  }
});

test("flushed (before a hand-over) waits for direct writes libuv still holds, which node's queue does not count", () =>
  stalled(async (p, out, data) => {
    const sent = fillKernel(data, (piece) => out.write(piece));
    let done = false;
    const flushing = flushed(p.near).then(() => (done = true));
    // Nothing can flush while the peer reads nothing: a few turns of the loop change nothing.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    assert.not.ok(done, 'flushed resolved with bytes still in libuv');
    await arrives(p, data.subarray(0, sent), async () => {
      await flushing;
      assert.is(queued(p.near), 0);
      p.near.end();
    });
  }));

test('readDirectly: reads go to onData while the socket flows; paused, they wait for resume, in order; given back, node reads', async () => {
  const p = await pair();
  try {
    const direct: string[] = [];
    const byEvent: string[] = [];
    const onData = (c: Buffer): void => void direct.push(c.toString());
    p.near.on('data', (c: Buffer) => byEvent.push(c.toString()));
    const readByNode = readDirectly(p.near, onData);
    p.far.write('one');
    await until(() => direct.length === 1, 'the first read');
    assert.equal(byEvent, [], "no 'data' event for a direct read");
    assert.is(p.near.bytesRead, 3, 'counted by the handle');

    p.near.pause();
    p.far.write('two');
    await until(() => p.near.readableLength === 3, "node's buffer holds the read");
    assert.equal(direct, ['one']);
    p.near.resume();
    await until(() => byEvent.length === 1, "the buffered read as a 'data' event");
    assert.equal(byEvent, ['two']);
    p.far.write('three');
    await until(() => direct.length === 2, 'direct again once the buffer is empty');
    assert.equal(direct, ['one', 'three']);

    readByNode();
    p.far.write('four');
    await until(() => byEvent.length === 2, "node's read");
    assert.equal(byEvent, ['two', 'four']);
    assert.equal(direct, ['one', 'three']);
    p.far.end();
    await next(p.near, 'end');
  } finally {
    p.close();
  }
});

test("readDirectly: onData's chunk is borrowed, and another socket's read writes over it; owned() keeps it, node's buffer and node's reads after the give-back get copies", async () => {
  const p = await pair();
  const q = await pair();
  try {
    const kept: { chunk: Buffer; copy: Buffer }[] = [];
    const byEvent: string[] = [];
    p.near.on('data', (c: Buffer) => void byEvent.push(c.toString()));
    const readByNode = readDirectly(p.near, (chunk) => void kept.push({ chunk, copy: owned(chunk) }));
    const other: string[] = [];
    const onOther = (chunk: Buffer): void => void other.push(chunk.toString());
    q.near.on('data', onOther);
    readDirectly(q.near, onOther);
    p.far.write('AAAA');
    await until(() => kept.length === 1, "p's read");
    q.far.write('BBBB');
    await until(() => other.length === 1, "q's read");
    assert.is(kept[0].chunk.toString(), 'BBBB', 'the same slab');
    assert.is(kept[0].copy.toString(), 'AAAA');
    assert.is(owned(kept[0].copy), kept[0].copy, 'a copy is not copied again');

    p.near.pause();
    p.far.write('CCCC');
    await until(() => p.near.readableLength === 4, "node's buffer holds p's read");
    q.far.write('DDDD');
    await until(() => other.length === 2, "q's next read");
    p.near.resume();
    await until(() => byEvent.length === 1, 'the buffered read');
    readByNode();
    p.far.write('EEEE');
    await until(() => byEvent.length === 2, "node's read after the give-back");
    q.far.write('FFFF');
    await until(() => other.length === 3, "q's last read");
    assert.equal(byEvent, ['CCCC', 'EEEE']);
    assert.equal(other, ['BBBB', 'DDDD', 'FFFF']);
    assert.is(kept.length, 1);
  } finally {
    p.close();
    q.close();
  }
});

test.run();
