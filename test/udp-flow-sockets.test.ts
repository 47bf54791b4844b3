import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serversAt } from './helpers/configs';
import { reloadWith, startFerry, writeConfig } from './helpers/ferry';
import { freePort } from './helpers/net';
import { udpConfig, udpEcho, udpStat } from './helpers/udp';

const FLOWS = 12;
const DATAGRAMS = 20;

/** A client that records where each reply came from. */
interface Talker {
  ask(text: string): Promise<{ reply: string; from: number }>;
  close(): void;
}

async function talker(port: number): Promise<Talker> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    ask: (text) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${text}`)), 3000);
        socket.once('message', (data, from) => {
          clearTimeout(timer);
          resolve({ reply: String(data), from: from.port });
        });
        socket.send(text, port, '127.0.0.1');
      }),
    close: () => socket.close(),
  };
}

/** UDP sockets bound to `port` on 127.0.0.1 and connected to someone: the flow sockets. */
function connectedOn(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/udp', 'utf8').trim().split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1] === `0100007F:${hex}` && f[2] !== '00000000:0000').length;
}

/** Every flow's first datagram, then the rest: returns each client's reply sources and the upstream ports. */
async function exchange(clients: Talker[], round: string): Promise<{ sources: Set<number>; upstream: string[] }> {
  const sources = new Set<number>();
  const upstream: string[] = [];
  await Promise.all(
    clients.map(async (c, i) => {
      for (let n = 0; n < DATAGRAMS; n++) {
        const { reply, from } = await c.ask(`${round}c${i}/${n}`);
        assert.ok(reply.endsWith(`:${round}c${i}/${n}`), `reply to ${round}c${i}/${n}: ${reply}`);
        sources.add(from);
        upstream[i] = reply.split(':')[0];
      }
    }),
  );
  return { sources, upstream };
}

for (const [groups, threads] of [[1, 1], [2, 1], [2, 2]]) {
  test(`${groups} × ${threads}: each flow's socket is connected to its client, so its later datagrams are not redispatched; across 3 reloads`, async () => {
    const server = await udpEcho();
    const port = await freePort();
    const config = udpConfig(port, { servers: serversAt(['s1', server.port]) }, {}, { groups, threads });
    const file = writeConfig(config);
    const ferry = await startFerry(undefined, { args: ['-c', file] });
    const clients = await Promise.all(Array.from({ length: FLOWS }, () => talker(port)));
    try {
      // Each flow's first reply: the flow (and its socket) exists once it came.
      await Promise.all(clients.map((c, i) => c.ask(`first c${i}`)));
      assert.is(connectedOn(port), FLOWS, 'one connected socket per flow on the frontend\'s port');
      const before = (await udpStat(ferry)).datagrams;
      const { sources, upstream } = await exchange(clients, 'r0');
      assert.equal([...sources], [port], 'every reply leaves from the frontend\'s port');
      const after = (await udpStat(ferry)).datagrams;
      const redispatched = after.redispatched - before.redispatched;
      assert.ok(redispatched < 0.05 * FLOWS * DATAGRAMS, `${redispatched} of ${FLOWS * DATAGRAMS} datagrams redispatched after the first replies`);
      assert.is(after.in - before.in, FLOWS * DATAGRAMS, 'every datagram read once');

      for (let reload = 1; reload <= 3; reload++) {
        assert.is((await reloadWith(ferry, file, config)).msg, 'reload done');
        await ferry.waitLog((l) => l.msg === 'old generation exited' && l.generation === reload);
        const again = await exchange(clients, `r${reload}`);
        assert.equal([...again.sources], [port]);
        assert.equal(again.upstream, upstream, 'each flow kept its upstream socket: it was handed over');
        assert.is(connectedOn(port), FLOWS, 'the flow sockets moved with their flows, none added or lost');
      }
      const last = (await udpStat(ferry)).datagrams;
      assert.is(last.flowsTotal, 0, 'no flow was started again by the last generation');
    } finally {
      clients.forEach((c) => c.close());
      await ferry.stop();
      server.close();
    }
  });
}

test('a client that changes port starts a new flow with its own connected socket; replies still come from the frontend\'s port', async () => {
  const server = await udpEcho();
  const port = await freePort();
  const ferry = await startFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }, {}, { groups: 2, threads: 1 }));
  try {
    const first = await talker(port);
    const a = await first.ask('one');
    first.close();
    const moved = await talker(port);
    const b = await moved.ask('two');
    const c = await moved.ask('three');
    moved.close();
    assert.equal([a.from, b.from, c.from], [port, port, port]);
    assert.is.not(a.reply.split(':')[0], b.reply.split(':')[0], 'a new flow, with a new upstream socket');
    assert.is(b.reply.split(':')[0], c.reply.split(':')[0]);
    assert.is(connectedOn(port), 2, 'the old flow keeps its socket until it idles out, the new one has its own');
    assert.is((await udpStat(ferry)).datagrams.flowsTotal, 2);
  } finally {
    await ferry.stop();
    server.close();
  }
});

test('quic-dcid flows keep the frontend\'s socket: no connected socket, redispatch as before', async () => {
  const server = await udpEcho();
  const port = await freePort();
  const ferry = await startFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }, { flowKey: 'quic-dcid' }, { groups: 1, threads: 2 }));
  try {
    const c = await talker(port);
    // A QUIC short header: first byte 0x40, then an 8-byte connection id.
    const datagram = Buffer.concat([Buffer.from([0x40]), Buffer.from('dcid0001'), Buffer.from('payload')]);
    const reply = await new Promise<number>((resolve) => {
      const s = createSocket('udp4');
      s.on('message', (_, from) => {
        resolve(from.port);
        s.close();
      });
      s.send(datagram, port, '127.0.0.1');
    });
    c.close();
    assert.is(reply, port);
    assert.is(connectedOn(port), 0);
  } finally {
    await ferry.stop();
    server.close();
  }
});

test.run();
