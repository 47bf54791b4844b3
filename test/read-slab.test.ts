/**
 * A thread's plain HTTP/1 sockets all read into one buffer (src/conn/read-slab.ts), so whatever
 * keeps bytes past a read must keep a copy. Each test leaves bytes kept on one connection (a head
 * not yet complete, a body the server is not reading), runs other connections' reads on the same
 * thread, and checks that the kept bytes arrive as they were sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFerry, type FerryProcess } from './helpers/ferry';
import { httpBackend, type HttpBackend } from './helpers/http';
import { freePort, listen, openClient } from './helpers/net';
import { until } from './helpers/layers';

let app: HttpBackend;
let ferry: FerryProcess;
const ports = { web: 0, halting: 0, sink: 0 };

/** Writes a response head up to the middle of a field, and the rest once `finishHead` is called. */
let finishHead: (() => void) | undefined;
const halting = createServer((s) => {
  s.once('data', () => {
    s.write('HTTP/1.1 200 OK\r\nX-Mark: AAAAAAAAAAAAAAAA', () => {
      finishHead = () => s.end('\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    });
  });
  s.on('error', () => {});
});

/** Reads a request head, then nothing until `drain` is called; then hashes the body and answers with the hash. */
let sinkSocket: Socket | undefined;
const sink = createServer((s) => {
  sinkSocket = s;
  s.on('error', () => {});
  let head: Buffer | undefined = Buffer.alloc(0);
  let want = 0;
  const hash = createHash('sha256');
  s.on('data', (d: Buffer) => {
    if (head !== undefined) {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      want = Number(/content-length: (\d+)/i.exec(head.subarray(0, end).toString())![1]);
      d = head.subarray(end + 4);
      head = undefined;
      s.pause();
    }
    hash.update(d);
    want -= d.length;
    if (want === 0) s.end(`HTTP/1.1 200 OK\r\nContent-Length: 64\r\nConnection: close\r\n\r\n${hash.digest('hex')}`);
  });
});

test.before(async () => {
  app = await httpBackend();
  const haltingPort = await listen(halting);
  const sinkPort = await listen(sink);
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
  const frontend = (port: number, backend: string): object => ({ bind: [`127.0.0.1:${port}`], mode: 'http', backend });
  ferry = await startFerry({
    // One thread: every connection reads into the same slab.
    global: { groups: 1, threads: 1 },
    frontends: { web: frontend(ports.web, 'app'), halting: frontend(ports.halting, 'halting'), sink: frontend(ports.sink, 'sink') },
    backends: {
      app: { servers: { a1: { address: `127.0.0.1:${app.port}` } } },
      halting: { servers: { h1: { address: `127.0.0.1:${haltingPort}` } } },
      sink: { timeout: { server: '60s' }, servers: { s1: { address: `127.0.0.1:${sinkPort}` } } },
    },
  });
});

test.after(async () => {
  await ferry?.stop();
  await app?.close();
  halting.close();
  sink.close();
});

/** One request and its response through the web frontend, with a field of the same length as the kept ones. */
async function otherExchange(mark: string): Promise<void> {
  const c = await openClient(ports.web);
  c.socket.write(`GET /other HTTP/1.1\r\nHost: a\r\nX-Mark: ${mark}\r\nConnection: close\r\n\r\n`);
  await c.closed;
  assert.ok(c.received().includes(`"x-mark":"${mark}"`), c.received());
}

test('a request head that is not complete yet keeps its bytes while other connections read', async () => {
  const c = await openClient(ports.web);
  // A first request, so that the next head starts a read of its own with nothing kept before it.
  c.socket.write('GET /first HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.waitFor('"url":"/first"');
  const head = ['GET /kept HTTP/1.1\r\nHost: a\r\nX-Mark: AAAAAAAA', 'AAAAAAAA\r\nX-Second: ', 'CCCC\r\nConnection: close\r\n\r\n'];
  for (const [i, piece] of head.entries()) {
    await new Promise<void>((resolve) => c.socket.write(piece, () => resolve()));
    if (i < head.length - 1) await otherExchange('B'.repeat(16));
  }
  await c.closed;
  const seen = app.seen.find((r) => r.url === '/kept');
  assert.ok(seen, c.received());
  assert.is(seen.headers['x-mark'], 'A'.repeat(16));
  assert.is(seen.headers['x-second'], 'CCCC');
});

test("a response head that is not complete yet keeps its bytes while other connections read", async () => {
  finishHead = undefined;
  const c = await openClient(ports.halting);
  c.socket.write('GET /halting HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  await until(() => finishHead !== undefined, 'the first half of the head');
  await otherExchange('B'.repeat(16));
  await otherExchange('C'.repeat(16));
  finishHead!();
  await c.closed;
  assert.ok(c.received().startsWith('HTTP/1.1 200'), c.received());
  assert.ok(c.received().includes('\r\nx-mark: AAAAAAAAAAAAAAAA\r\n') || c.received().includes('\r\nX-Mark: AAAAAAAAAAAAAAAA\r\n'), c.received());
  assert.ok(c.received().endsWith('\r\n\r\nok'), c.received());
});

/** More than the loopback buffers between ferry and a server that reads nothing can hold, so ferry keeps some of it. */
const LOOPBACK_HOLDS = ['tcp_wmem', 'tcp_rmem'].map((f) => Number(readFileSync(`/proc/sys/net/ipv4/${f}`, 'utf8').trim().split(/\s+/)[2])).reduce((a, b) => a + b) * 2;

test('a request body that the server does not read yet keeps its bytes while other connections read', async () => {
  const body = randomBytes(LOOPBACK_HOLDS + (8 << 20));
  const client = connect({ port: ports.sink, host: '127.0.0.1' });
  const chunks: Buffer[] = [];
  client.on('data', (d: Buffer) => chunks.push(d));
  const closed = new Promise((resolve) => client.on('close', resolve));
  client.write(`POST /upload HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`);
  let sent = false;
  client.write(body, () => (sent = true));
  // The server reads nothing, so the body stops short of it: some in the kernel's buffers, some in ferry's writes.
  await until(() => sinkSocket !== undefined && sinkSocket.isPaused(), 'the server to pause');
  for (let i = 0; i < 20; i++) await otherExchange(String(i).padStart(16, 'B'));
  assert.not.ok(sent, 'the whole body went through while the server read nothing');
  sinkSocket!.resume();
  await closed;
  const answer = Buffer.concat(chunks).toString();
  assert.ok(answer.startsWith('HTTP/1.1 200'), answer);
  assert.ok(answer.endsWith(createHash('sha256').update(body).digest('hex')), 'the body arrived changed');
});

test.run();
