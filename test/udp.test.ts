import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serversAt } from './helpers/configs';
import { reloadWith, runCli, startFerry, writeConfig } from './helpers/ferry';
import { freePort } from './helpers/net';
import { statData, statUntil, udpClient, udpConfig, udpEcho, udpStat, withFerry } from './helpers/udp';

test('a flow reaches the server from one upstream port, and the replies come back', async () => {
  const server = await udpEcho();
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }), async (ferry) => {
    const client = await udpClient(port);
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await client.ask(`ping${i}`));
    client.close();
    const upstream = server.sources[0];
    assert.equal(replies, [0, 1, 2, 3, 4].map((i) => `${upstream}:ping${i}`));
    assert.equal(new Set(server.sources), new Set([upstream]));
    const stat = await udpStat(ferry);
    assert.equal(stat.datagrams, { flows: 1, flowsTotal: 1, in: 5, out: 5, dropped: 0, rateLimited: 0, malformed: 0, redispatched: 0, fromThreads: 0, redispatchDropped: 0 });
    const backend = (await statData(ferry)).backends.find((b) => b.name === 'app')!;
    assert.equal([backend.current, backend.total, backend.servers[0].active, backend.servers[0].total], [1, 1, 1, 1], 'a flow counts as a session');
  });
  server.close();
});

test('each client gets its own flow and upstream port, balanced over the servers', async () => {
  const [a, b] = [await udpEcho(), await udpEcho()];
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['a', a.port], ['b', b.port]) }), async (ferry) => {
    const clients = await Promise.all([0, 1, 2, 3].map(() => udpClient(port)));
    const first = await Promise.all(clients.map((c, i) => c.ask(`c${i}`)));
    const again = await Promise.all(clients.map((c, i) => c.ask(`c${i}`)));
    clients.forEach((c) => c.close());
    assert.equal(again, first, 'a client keeps its server and upstream port');
    assert.is(new Set(first.map((r) => r.split(':')[0])).size, 4, 'one upstream port per client');
    assert.is(a.sources.length, 4, 'roundrobin over flows');
    assert.is(b.sources.length, 4);
    assert.is((await udpStat(ferry)).datagrams.flows, 4);
  });
  a.close();
  b.close();
});

test('past maxFlows new flows are dropped and counted; existing flows keep working', async () => {
  const server = await udpEcho();
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }, { maxFlows: 2 }), async (ferry) => {
    const [c1, c2, c3] = await Promise.all([0, 1, 2].map(() => udpClient(port)));
    await c1.ask('one');
    await c2.ask('two');
    await c3.ask('three', 300).then(
      () => assert.unreachable('a third flow is past maxFlows'),
      (err: Error) => assert.match(err.message, 'no reply'),
    );
    assert.match(await c1.ask('one again'), 'one again');
    [c1, c2, c3].forEach((c) => c.close());
    const stat = await udpStat(ferry);
    assert.is(stat.datagrams.flows, 2);
    assert.is(stat.datagrams.dropped, 1);
  });
  server.close();
});

test('an idle flow expires after timeout.flow; the next datagram opens a new one', async () => {
  const server = await udpEcho();
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: serversAt(['s1', server.port]) }, { timeout: { flow: '200ms' } }), async (ferry) => {
    const client = await udpClient(port);
    const before = (await client.ask('hello')).split(':')[0];
    await statUntil(ferry, (d) => d.flows === 0, 5000);
    const after = (await client.ask('hello')).split(':')[0];
    client.close();
    assert.is.not(after, before, 'a new upstream socket after expiry');
    assert.is((await udpStat(ferry)).datagrams.flowsTotal, 2);
  });
  server.close();
});

test('with 2 groups of 2 threads every datagram of a flow meets its owner, over IPv6 too, and a reload serves new flows', async () => {
  const [v4, v6] = [await udpEcho(), await udpEcho(6)];
  const [port, port6] = [await freePort(), await freePort()];
  const config = (server: number): object => ({
    global: { groups: 2, threads: 2 },
    frontends: {
      dns: { mode: 'udp', bind: [`udp@127.0.0.1:${port}`], backend: 'app' },
      dns6: { mode: 'udp', bind: `udp@[::1]:${port6}`, backend: 'app6' },
    },
    backends: { app: { servers: serversAt(['s1', server]) }, app6: { servers: { s1: { address: `[::1]:${v6.port}` } } } },
  });
  const file = writeConfig(config(v4.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const [client, client6] = [await udpClient(port), await udpClient(port6, '::1')];
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await client.ask(`m${i}`));
    assert.is(new Set(v4.sources).size, 1, 'every datagram of the flow met the same flow table');
    assert.match(await client6.ask('six'), /^\d+:six$/);
    assert.is((await udpStat(ferry)).datagrams.in, 6);

    const other = await udpEcho();
    assert.is((await reloadWith(ferry, file, config(other.port))).msg, 'reload done');
    // Until the old generation's readers stop, they may still take the datagram for their own flow.
    await ferry.waitLog((l) => l.msg === 'thread stopping: no longer accepting' && l.generation === 1, 10_000, 3);
    assert.match(await client.ask('after reload'), /^\d+:after reload$/, 'the new generation reads the socket');
    assert.is(other.sources.length, 1, 'the new flow went to the new server');
    other.close();
    client.close();
    client6.close();
  } finally {
    assert.equal(await ferry.stop(), { code: 0, signal: null });
    v4.close();
    v6.close();
  }
});

test('ferry check refuses udp config errors, naming the key', async () => {
  const r = await runCli(['check', '-c', writeConfig(udpConfig(5353, { servers: serversAt(['s1', 53]) }, { bind: ['udp@0.0.0.0:5353', '127.0.0.1:5354'] }))]);
  assert.is(r.code, 1);
  assert.match(r.stderr, 'frontends.dns.bind[0]: "udp@0.0.0.0:5353": a UDP bind cannot take every address');
  assert.match(r.stderr, 'frontends.dns.bind[1]: "127.0.0.1:5354" is not a UDP address');
});

test('an upstream that cannot connect (broadcast, refused without SO_BROADCAST) ends its flow and counts its datagram dropped', async () => {
  const port = await freePort();
  await withFerry(udpConfig(port, { servers: { far: { address: '255.255.255.255:53' } } }), async (ferry) => {
    const client = await udpClient(port);
    await client.ask('anyone?', 100).catch(() => undefined);
    await statUntil(ferry, (d) => d.flowsTotal === 1 && d.flows === 0 && d.dropped === 1, 5000);
    client.close();
  });
});

test('the example etc/ferry-udp.json is valid', async () => {
  const r = await runCli(['check', '-c', join(__dirname, '..', '..', 'etc', 'ferry-udp.json'), '--no-bind']);
  assert.is(r.code, 0, r.stderr);
});

test('a UDP port in use fails start, naming the bind', async () => {
  const squatter = await udpEcho();
  const r = await runCli(['start', '-c', writeConfig(udpConfig(squatter.port, { servers: serversAt(['s1', 53]) }))]);
  squatter.close();
  assert.is(r.code, 1);
  assert.match(r.stderr, `frontends.dns.bind[0]: cannot bind "udp@127.0.0.1:${squatter.port}": address already in use: another process receives there`);
});

test.run();
