import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serversAt } from './helpers/configs';
import { runCli } from './helpers/ferry';
import { freePort } from './helpers/net';
import { statUntil, udpClient, udpConfig, udpEcho, udpStat, withFerry } from './helpers/udp';

/** A QUIC short-header packet: first byte with the long-header bit clear (fixed bit set), the DCID, a payload. */
function shortHeader(dcid: string, payload: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), Buffer.from(dcid, 'hex'), Buffer.from(payload)]);
}

/** A QUIC v1 long-header packet (an Initial): form and fixed bits, version 1, DCID length and DCID, an empty SCID, a payload. */
function longHeader(dcid: string, payload: string, version = 1): Buffer {
  const id = Buffer.from(dcid, 'hex');
  const head = Buffer.alloc(6);
  head[0] = 0xc0;
  head.writeUInt32BE(version, 1);
  head[5] = id.length;
  return Buffer.concat([head, id, Buffer.from([0]), Buffer.from(payload)]);
}

/** The upstream port the echo server saw, from its "<port>:<payload>" reply. */
function upstreamOf(reply: string): string {
  return reply.split(':')[0];
}

const DCID = '0011223344556677';
const quic = { flowKey: 'quic-dcid' };

test('quic-dcid: a client that changes port keeps its server and upstream port, and replies follow it', async () => {
  const [a, b] = [await udpEcho(), await udpEcho()];
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['a', a.port], ['b', b.port]) }, quic), async (ferry) => {
    const [before, after] = [await udpClient(port), await udpClient(port)];
    const first = await before.ask(shortHeader(DCID, 'from the first port'));
    const second = await after.ask(shortHeader(DCID, 'from the second port'));
    assert.ok(second.endsWith('from the second port'), 'the reply reached the new port');
    assert.is(upstreamOf(second), upstreamOf(first), 'the same upstream socket');
    assert.is(a.sources.length + b.sources.length, 2);
    assert.ok(a.sources.length === 0 || b.sources.length === 0, 'the same server');
    const other = await before.ask(shortHeader('8899aabbccddeeff', 'another connection'));
    assert.is.not(upstreamOf(other), upstreamOf(first), 'another DCID is another flow');
    before.close();
    after.close();
    const stat = await udpStat(ferry);
    assert.equal([stat.datagrams.flows, stat.datagrams.flowsTotal, stat.datagrams.malformed], [2, 2, 0]);
  });
  a.close();
  b.close();
});

test('quic-dcid: a long header and a short header with the same DCID are one flow; quicDcidLength sets the short length', async () => {
  const server = await udpEcho();
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }, { ...quic, quicDcidLength: 4 }), async (ferry) => {
    const client = await udpClient(port);
    const initial = await client.ask(longHeader('cafe0001', 'initial'));
    const later = await client.ask(shortHeader('cafe0001', 'short'));
    const otherVersion = await client.ask(longHeader('cafe0001', 'draft', 0xff00001d));
    assert.is(upstreamOf(later), upstreamOf(initial));
    assert.is(upstreamOf(otherVersion), upstreamOf(initial), 'the key does not depend on the version');
    client.close();
    assert.is((await udpStat(ferry)).datagrams.flowsTotal, 1);
  });
  server.close();
});

test('quic-dcid: datagrams without a readable DCID are dropped and counted as malformed; the rest go on', async () => {
  const server = await udpEcho();
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }, quic), async (ferry) => {
    const client = await udpClient(port);
    const malformed = [
      Buffer.alloc(0),
      shortHeader('0011', ''), // shorter than quicDcidLength (8)
      Buffer.from([0xc0, 0, 0, 0, 1]), // a long header cut before its DCID length
      Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1, 21]), Buffer.alloc(21)]), // a DCID longer than 20
      Buffer.concat([Buffer.from([0xc0, 0, 0, 0, 1, 8]), Buffer.alloc(4)]), // a DCID cut short
      longHeader(DCID, 'version negotiation', 0),
    ];
    for (const m of malformed) client.send(m);
    await statUntil(ferry, (d) => d.malformed === malformed.length, 5000);
    assert.match(await client.ask(shortHeader(DCID, 'well formed')), 'well formed');
    client.close();
    const d = (await udpStat(ferry)).datagrams;
    assert.equal([d.in, d.malformed, d.flowsTotal, d.dropped], [malformed.length + 1, malformed.length, 1, 0]);
    assert.is(server.sources.length, 1, 'the server saw only the well-formed datagram');
  });
  server.close();
});

test('quic-dcid: an idle flow expires after timeout.flow; the next datagram opens a new flow', async () => {
  const server = await udpEcho();
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }, { ...quic, timeout: { flow: '200ms' } }), async (ferry) => {
    const client = await udpClient(port);
    const before = upstreamOf(await client.ask(shortHeader(DCID, 'hello')));
    await statUntil(ferry, (d) => d.flows === 0, 5000);
    const after = upstreamOf(await client.ask(shortHeader(DCID, 'hello again')));
    client.close();
    assert.is.not(after, before, 'a new upstream socket after expiry');
    assert.is((await udpStat(ferry)).datagrams.flowsTotal, 2);
  });
  server.close();
});

test('none: datagrams from one client port stand alone, spread by roundrobin, each answered', async () => {
  const [a, b] = [await udpEcho(), await udpEcho()];
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['a', a.port], ['b', b.port]) }, { flowKey: 'none' }), async (ferry) => {
    const client = await udpClient(port);
    for (let i = 0; i < 20; i++) assert.match(await client.ask(`q${i}`), new RegExp(`^\\d+:q${i}$`));
    client.close();
    assert.equal([a.sources.length, b.sources.length], [10, 10]);
    await statUntil(ferry, (d) => d.flows === 0, 5000);
    const d = (await udpStat(ferry)).datagrams;
    assert.equal([d.flowsTotal, d.in, d.out, d.dropped], [20, 20, 20, 0]);
  });
  a.close();
  b.close();
});

test('none: a datagram without a reply holds its place in maxFlows until timeout.flow', async () => {
  const silent = await udpEcho(4, true);
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['s1', silent.port]) }, { flowKey: 'none', maxFlows: 1, timeout: { flow: '300ms' } }), async (ferry) => {
    const client = await udpClient(port);
    client.send('first');
    client.send('second');
    await statUntil(ferry, (d) => d.in === 2, 5000);
    const held = (await udpStat(ferry)).datagrams;
    await statUntil(ferry, (d) => d.flows === 0, 5000);
    client.send('third');
    await statUntil(ferry, (d) => d.flowsTotal === 2, 5000);
    client.close();
    // flowsTotal, not flows: the first flow may already have expired by the time show stat answers.
    assert.equal([held.flowsTotal, held.dropped], [1, 1], 'the second datagram found maxFlows reached');
    assert.is(silent.sources.length, 2, 'the first and third reached the server');
  });
  silent.close();
});

test('maxFlowRate: a burst of new flows past the rate is dropped and counted; an existing flow keeps working', async () => {
  const server = await udpEcho();
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }, { maxFlowRate: 3 }), async (ferry) => {
    const existing = await udpClient(port);
    await existing.ask('first');
    const burst = await Promise.all(Array.from({ length: 20 }, () => udpClient(port)));
    for (const c of burst) c.send('new');
    await statUntil(ferry, (d) => d.in === 21, 5000);
    assert.match(await existing.ask('still here'), 'still here');
    burst.forEach((c) => c.close());
    existing.close();
    const d = (await udpStat(ferry)).datagrams;
    // The bucket holds 3 at start; the burst may last long enough to refill one or two more.
    assert.ok(d.rateLimited >= 14 && d.rateLimited <= 18, `rate limited ${d.rateLimited} of 20`);
    assert.is(d.flowsTotal + d.rateLimited, 21);
    assert.is(d.dropped, 0, 'rate drops are not maxFlows drops');
    const json = await runCli(['ctl', '-s', ferry.control, '--json', 'show', 'stat']);
    const frontend = (JSON.parse(json.stdout).data.frontends as { name: string; datagrams: { rateLimited: number } }[]).find((f) => f.name === 'dns')!;
    assert.is(frontend.datagrams.rateLimited, d.rateLimited, 'ferry ctl --json show stat has the counter');
    const text = await runCli(['ctl', '-s', ferry.control, 'show', 'stat']);
    assert.match(text.stdout, /udp frontend\s+flows\s+flows total\s+datagrams in\s+datagrams out\s+dropped\s+rate limited\s+malformed/);
  });
  server.close();
});

test.run();
