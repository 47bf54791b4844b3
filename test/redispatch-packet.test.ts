import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DgramSocket } from 'node-unix-socket';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { peerPath } from '../src/datagram/peer-path';
import { decodeRedispatched, encodeRedispatched, threadOf, type Redispatched } from '../src/datagram/redispatch-packet';
import { createLogger } from '../src/log';
import { GroupPeers } from '../workers/group-peers';

const sample: Redispatched = {
  thread: 3,
  frontend: 258,
  bind: 2,
  client: { family: 6, address: 'fe80::1%lo', port: 65535 },
  key: 'udp@[fe80::1%lo]:53 fe80::1%lo:65535 ✓',
  data: Buffer.from([0, 1, 2, 255]),
};

test('a packet decodes to what was encoded, payload and non-ASCII key included', () => {
  const packet = encodeRedispatched(sample);
  assert.is(packet.byteLength, packet.buffer.byteLength, 'the packet owns its ArrayBuffer: a MessagePort moves exactly it');
  const d = decodeRedispatched(packet);
  assert.ok(typeof d !== 'string', String(d));
  assert.equal({ ...d, data: [...d.data] }, { ...sample, data: [0, 1, 2, 255] });
  assert.is(threadOf(packet), 3);
  const empty = decodeRedispatched(encodeRedispatched({ ...sample, client: { family: 4, address: '127.0.0.1', port: 1 }, key: '', data: Buffer.alloc(0) }));
  assert.ok(typeof empty !== 'string' && empty.data.length === 0 && empty.key === '' && empty.client.family === 4);
});

test('every truncation and bad header byte is refused with a reason, never thrown', () => {
  const packet = Buffer.from(encodeRedispatched(sample));
  const headerEnd = packet.length - sample.data.length;
  for (let n = 0; n < headerEnd; n++) assert.type(decodeRedispatched(packet.subarray(0, n)), 'string', `cut at ${n} bytes`);
  assert.match(decodeRedispatched(packet.subarray(0, 3)) as string, 'truncated');
  assert.match(decodeRedispatched(Buffer.from([0x42, ...packet.subarray(1)])) as string, 'bad magic/version byte 0x42');
  const badFamily = Buffer.from(packet);
  badFamily[6] = 5;
  assert.match(decodeRedispatched(badFamily) as string, 'bad address family 5');
  // Random bytes: whatever they are, a result or a reason.
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.from(Array.from({ length: Math.floor(Math.random() * 40) }, () => Math.floor(Math.random() * 256)));
    if (i % 2 === 0) junk[0] = 0xf1;
    decodeRedispatched(junk);
  }
});

test("a group's socket hands good packets to the owner thread, counts malformed ones, and a send to a group that is gone fails without throwing", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-peers-'));
  const delivered: [number, Redispatched | string][] = [];
  const peers = new GroupPeers(dir, 7, 1, createLogger({ level: 'silent', format: 'json' }, { role: 'worker' }), (thread, p) => delivered.push([thread, decodeRedispatched(p)]));
  const sender = new DgramSocket();
  const sendRaw = (data: Buffer): Promise<void> => new Promise((resolve, reject) => sender.sendTo(data, 0, data.length, peerPath(dir, 7, 1), (err) => (err ? reject(err) : resolve())));
  await sendRaw(Buffer.from(encodeRedispatched(sample)));
  await sendRaw(Buffer.from([0xf1, 0, 0]));
  await sendRaw(Buffer.from('not a packet at all'));
  const deadline = Date.now() + 5000;
  while (delivered.length + peers.rejected < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.is(peers.rejected, 2);
  assert.is(delivered.length, 1);
  assert.is(delivered[0][0], 3);
  const failed = await new Promise<boolean>((resolve) => {
    peers.send(2, encodeRedispatched(sample), () => resolve(true));
    setTimeout(() => resolve(false), 5000);
  });
  assert.ok(failed, 'a send to a group with no socket reports failure');
  // node-unix-socket aborts when a socket closes inside one of its callbacks.
  await new Promise((r) => setImmediate(r));
  peers.close();
  sender.close();
  let afterClose = false;
  peers.send(1, encodeRedispatched(sample), () => (afterClose = true));
  assert.ok(afterClose, 'a send after close fails at once, without throwing');
});

test.run();
