import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DgramSocket } from 'node-unix-socket';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { peerPath } from '../src/datagram/peer-path';
import { BATCH_BYTES, checkBatch, decodeBatch, encodeBatch, recordSize, splitBatches, type RedispatchBatch, type Redispatched } from '../src/datagram/redispatch-packet';
import { Redispatcher } from '../src/datagram/redispatcher';
import { createLogger, type Logger } from '../src/log/log';
import { GroupPeers } from '../workers/group-peers';

const sample: Redispatched = {
  bind: 2,
  client: { family: 6, address: 'fe80::1%lo', port: 65535 },
  key: 'udp@[fe80::1%lo]:53 fe80::1%lo:65535 ✓',
  data: Buffer.from([0, 1, 2, 255]),
};
const other: Redispatched = { bind: 0, client: { family: 4, address: '127.0.0.1', port: 1 }, key: '', data: Buffer.alloc(0) };
const batch: RedispatchBatch = { thread: 3, frontend: 258, datagrams: [sample, other, { ...sample, data: Buffer.from('third') }] };

const plain = (b: RedispatchBatch | string): unknown => (typeof b === 'string' ? b : { ...b, datagrams: b.datagrams.map((d) => ({ ...d, data: [...d.data] })) });

test('a batch decodes to what was encoded, in order, payloads and non-ASCII keys included', () => {
  const packet = encodeBatch(batch);
  assert.is(packet.byteLength, packet.buffer.byteLength, 'the packet owns its ArrayBuffer: a MessagePort moves exactly it');
  assert.is(packet.byteLength, 6 + batch.datagrams.reduce((n, d) => n + recordSize(d), 0), 'recordSize says what a datagram takes');
  assert.equal(plain(decodeBatch(packet)), plain(batch));
  assert.equal(checkBatch(packet), { thread: 3, frontend: 258, count: 3 });
  const one = decodeBatch(encodeBatch({ thread: 0, frontend: 0, datagrams: [other] }));
  assert.ok(typeof one !== 'string' && one.datagrams.length === 1 && one.datagrams[0].data.length === 0 && one.datagrams[0].key === '');
  assert.throws(() => encodeBatch({ thread: 0, frontend: 0, datagrams: [] }), /1 to 65535 datagrams/);
});

test('every truncation, trailing byte and bad header byte is refused with a reason, never thrown', () => {
  const packet = Buffer.from(encodeBatch(batch));
  for (let n = 0; n < packet.length; n++) {
    const cut = packet.subarray(0, n);
    assert.type(decodeBatch(cut), 'string', `cut at ${n} bytes`);
    assert.type(checkBatch(cut), 'string', `checked, cut at ${n} bytes`);
  }
  assert.match(decodeBatch(packet.subarray(0, 3)) as string, 'truncated');
  assert.match(decodeBatch(packet.subarray(0, packet.length - 1)) as string, 'truncated in datagram 3 of 3');
  assert.match(decodeBatch(Buffer.concat([packet, Buffer.from([0])])) as string, '1 bytes after the last of 3 datagrams');
  assert.match(decodeBatch(Buffer.from([0x42, ...packet.subarray(1)])) as string, 'bad magic/version byte 0x42');
  assert.match(decodeBatch(Buffer.from([0xf1, ...packet.subarray(1)])) as string, 'bad magic/version byte 0xf1', 'the single-datagram format of before is refused');
  const none = Buffer.from(packet);
  none.writeUInt16BE(0, 4);
  assert.match(decodeBatch(none) as string, 'no datagram');
  const fewer = Buffer.from(packet);
  fewer.writeUInt16BE(2, 4);
  assert.match(decodeBatch(fewer) as string, 'bytes after the last of 2 datagrams');
  const badFamily = Buffer.from(packet);
  badFamily[6 + 2] = 5;
  assert.match(decodeBatch(badFamily) as string, 'bad address family 5 in datagram 1');
  // Random bytes: whatever they are, a result or a reason.
  for (let i = 0; i < 3000; i++) {
    const junk = Buffer.from(Array.from({ length: Math.floor(Math.random() * 60) }, () => Math.floor(Math.random() * 256)));
    if (i % 2 === 0) junk[0] = 0xf2;
    if (i % 4 === 0 && junk.length > 5) junk[4] = 0;
    decodeBatch(junk);
    checkBatch(junk);
  }
});

test('batches sent one after the other in one socket datagram split into whole batches; a truncated one refuses them all', () => {
  const second: RedispatchBatch = { thread: 1, frontend: 0, datagrams: [other] };
  const both = Buffer.concat([encodeBatch(batch), encodeBatch(second)]);
  const split = splitBatches(both);
  assert.ok(typeof split !== 'string', String(split));
  assert.equal(split.map((s) => s.thread), [3, 1]);
  assert.equal(split.map((s) => plain(decodeBatch(s.batch))), [plain(batch), plain(second)]);
  assert.ok(split.every((s) => s.batch.byteLength === s.batch.buffer.byteLength), 'each batch owns its ArrayBuffer');
  assert.match(splitBatches(both.subarray(0, both.length - 1)) as string, 'batch 2: truncated');
  assert.match(splitBatches(Buffer.concat([both, Buffer.from([1])])) as string, 'batch 3: truncated');
  assert.is(splitBatches(Buffer.alloc(0)), 'empty');
});

test('a Redispatcher sends the datagrams of one turn as one batch per owner and frontend, in order, and starts a new batch past BATCH_BYTES', async () => {
  const sent: [number, number, number, RedispatchBatch | string][] = [];
  const r = new Redispatcher({ group: 0, thread: 0 }, 3, 1, [null], (group, frontend, datagrams, packet) => sent.push([group, frontend, datagrams, decodeBatch(packet)]));
  const d = (n: number, size = 4): Redispatched => ({ ...other, data: Buffer.alloc(size, n) });
  for (let n = 0; n < 5; n++) assert.ok(r.send({ group: 1, thread: 0 }, 0, d(n)));
  assert.ok(r.send({ group: 2, thread: 0 }, 0, d(9)));
  assert.ok(r.send({ group: 1, thread: 0 }, 7, d(8)));
  assert.not.ok(r.send({ group: 0, thread: 1 }, 0, d(0)), 'no port to that thread: refused at once');
  assert.is(sent.length, 0, 'nothing leaves before the turn ends');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent.map(([g, f, n, b]) => [g, f, n, typeof b === 'string' ? b : b.datagrams.map((x) => x.data[0])]), [
    [1, 0, 5, [0, 1, 2, 3, 4]],
    [2, 0, 1, [9]],
    [1, 7, 1, [8]],
  ]);
  sent.length = 0;
  const big = BATCH_BYTES / 4;
  for (let n = 0; n < 6; n++) r.send({ group: 1, thread: 0 }, 0, d(n, big));
  assert.ok(sent.length >= 1, 'a full batch leaves at once');
  await new Promise((resolve) => setImmediate(resolve));
  const flat = sent.flatMap(([, , , b]): (number | string)[] => (typeof b === 'string' ? [b] : b.datagrams.map((x) => x.data[0])));
  assert.equal(flat, [0, 1, 2, 3, 4, 5]);
  for (const [, , n, b] of sent) {
    assert.ok(typeof b !== 'string' && b.datagrams.length === n);
    assert.ok(encodeBatch(b as RedispatchBatch).byteLength <= BATCH_BYTES, 'no batch of several datagrams exceeds BATCH_BYTES');
  }
});

test("a group's socket hands whole batches to the owner thread, counts truncated and foreign ones, and a send to a group that is gone fails without throwing", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-peers-'));
  const delivered: [number, RedispatchBatch | string][] = [];
  const peers = new GroupPeers(dir, 7, 1, createLogger({ level: 'silent', format: 'json', access: true }, { role: 'worker' }), (thread, p) => delivered.push([thread, decodeBatch(p)]));
  const sender = new DgramSocket();
  const sendRaw = (data: Buffer): Promise<void> => new Promise((resolve, reject) => sender.sendTo(data, 0, data.length, peerPath(dir, 7, 1), (err) => (err ? reject(err) : resolve())));
  const packet = Buffer.from(encodeBatch(batch));
  await sendRaw(packet);
  await sendRaw(packet.subarray(0, packet.length - 2));
  await sendRaw(Buffer.from('not a packet at all'));
  const deadline = Date.now() + 5000;
  while (delivered.length + peers.rejected < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.is(peers.rejected, 2);
  assert.is(delivered.length, 1);
  assert.is(delivered[0][0], 3);
  assert.equal(plain(delivered[0][1]), plain(batch));
  // Batches for one group in one turn leave together, and arrive apart and in order.
  const second: RedispatchBatch = { thread: 0, frontend: 1, datagrams: [other] };
  peers.send(1, encodeBatch(batch), () => assert.unreachable('sent to itself'));
  peers.send(1, encodeBatch(second), () => assert.unreachable('sent to itself'));
  while (delivered.length < 3 && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 10));
  assert.equal(delivered.slice(1).map(([thread, b]) => [thread, plain(b)]), [[3, plain(batch)], [0, plain(second)]]);
  const failed = await new Promise<boolean>((resolve) => {
    peers.send(2, encodeBatch(batch), () => resolve(true));
    setTimeout(() => resolve(false), 5000);
  });
  assert.ok(failed, 'a send to a group with no socket reports failure');
  // node-unix-socket aborts when a socket closes inside one of its callbacks.
  await new Promise((r) => setImmediate(r));
  peers.close();
  sender.close();
  let afterClose = false;
  peers.send(1, encodeBatch(batch), () => (afterClose = true));
  assert.ok(afterClose, 'a send after close fails at once, without throwing');
});

test('a group that stops taking batches is logged once, not once a datagram, and again once it takes them back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-peers-'));
  const lines: [string, Record<string, unknown>, string][] = [];
  let logged = (): void => {};
  const record = (level: string) => (fields: Record<string, unknown>, msg: string): void => {
    lines.push([level, fields, msg]);
    logged();
  };
  const log = { warn: record('warn'), info: record('info'), error: record('error') } as unknown as Logger;
  const silent = createLogger({ level: 'silent', format: 'json', access: true }, { role: 'worker' });
  const peers = new GroupPeers(dir, 7, 0, log, () => assert.unreachable('nothing is sent to group 0'));
  const fails = (): Promise<void> => new Promise((resolve) => peers.send(1, encodeBatch(batch), resolve));
  const nextLine = (): Promise<void> => new Promise((resolve) => (logged = resolve));
  // Two turns, two failed sends: one line.
  await fails();
  await fails();
  assert.equal(lines, [['warn', { to: 1, err: 'No such file or directory' }, 'redispatch to another group failed: datagrams for its threads count as dropped until it takes them again']]);
  const delivered: number[] = [];
  let arrived = (): void => {};
  const back = new GroupPeers(dir, 7, 1, silent, (thread) => {
    delivered.push(thread);
    arrived();
  });
  const works = nextLine();
  const first = new Promise<void>((resolve) => (arrived = resolve));
  peers.send(1, encodeBatch(batch), () => assert.unreachable('group 1 is back'));
  await Promise.all([works, first]);
  assert.equal(lines.slice(1), [['info', { to: 1 }, 'redispatch to another group works again']]);
  const second = new Promise<void>((resolve) => (arrived = resolve));
  peers.send(1, encodeBatch(batch), () => assert.unreachable('group 1 is back'));
  await second;
  assert.equal(delivered, [3, 3]);
  // node-unix-socket aborts when a socket closes inside one of its callbacks.
  await new Promise((r) => setImmediate(r));
  back.close();
  await fails();
  assert.is(lines.length, 3, 'a send that works after another that did says nothing');
  assert.equal(lines[2].slice(0, 2), ['warn', { to: 1, err: 'No such file or directory' }], 'the next failure is said again');
  await new Promise((r) => setImmediate(r));
  peers.close();
});

test.run();
