import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackendSnapshot, FrontendSnapshot } from '../src/proto/snapshot';
import { HELLO, serversAt } from './helpers/configs';
import { reloadWith, runCli, startFerry, writeConfig, type FerryProcess, type LogLine } from './helpers/ferry';
import { freePort } from './helpers/net';
import { udpClient, udpEcho, type Client } from './helpers/udp';

const CLIENTS = 20;

function udpConfig(port: number, servers: object, global: object = {}): object {
  return {
    global: { groups: 1, threads: 1, ...global },
    frontends: { dns: { mode: 'udp', bind: [`udp@127.0.0.1:${port}`], backend: 'app' } },
    backends: { app: { servers } },
  };
}

/** The upstream port the server saw, from the echo's "<source port>:<payload>". */
const portOf = (reply: string): number => Number(reply.split(':')[0]);

async function startWith(config: object): Promise<{ ferry: FerryProcess; file: string }> {
  const file = writeConfig(config);
  return { ferry: await startFerry(undefined, { args: ['-c', file] }), file };
}

/** The next "UDP flows handed over" line, past those already logged. */
async function handedOver(ferry: FerryProcess, reload: () => Promise<LogLine>): Promise<LogLine> {
  const isSummary = (l: LogLine): boolean => l.msg === 'UDP flows handed over';
  const before = ferry.logs.filter(isSummary).length;
  assert.is((await reload()).msg, 'reload done');
  return ferry.waitLog(isSummary, 10_000, before);
}

/**
 * The workers' lines for flows closed at a hand-over, once `count` of them came: they reach the
 * test on the workers' output, which the master's summary may overtake.
 */
async function closedFlows(ferry: FerryProcess, reason: string, count: number): Promise<LogLine[]> {
  const isClosed = (l: LogLine): boolean => l.msg === `handed-over flow closed: ${reason}`;
  await ferry.waitLog(isClosed, 10_000, count - 1);
  return ferry.logs.filter(isClosed);
}

async function stat(ferry: FerryProcess): Promise<{ dns: FrontendSnapshot | undefined; app: BackendSnapshot }> {
  const r = await runCli(['ctl', '-s', ferry.control, '--json', 'show', 'stat']);
  assert.is(r.code, 0, r.stderr);
  const data = (JSON.parse(r.stdout) as { data: { frontends: FrontendSnapshot[]; backends: BackendSnapshot[] } }).data;
  return { dns: data.frontends.find((f) => f.name === 'dns'), app: data.backends.find((b) => b.name === 'app')! };
}

/** Waits until every generation before `generation` has exited, so that `show stat` counts one generation. */
function oldGone(ferry: FerryProcess, generation: number): Promise<LogLine> {
  return ferry.waitLog((l) => l.msg === 'old generation exited' && l.generation === generation - 1);
}

/**
 * Every client asks again and again, one datagram at a time, until stopped; each reply must come
 * (a lost datagram fails after 3 s) and carry the upstream port the client's flow had at first.
 */
function keepAsking(clients: Client[], ports: number[]): { more(n: number): Promise<void>; stop(): Promise<void> } {
  let stopped = false;
  let replies = 0;
  let waiter: { at: number; reached: () => void } | undefined;
  const loops = clients.map(async (client, i) => {
    for (let n = 0; !stopped; n++) {
      const reply = await client.ask(`c${i}-${n}`, 3000);
      assert.is(portOf(reply), ports[i], `client ${i} keeps its upstream port (datagram ${n})`);
      if (++replies === waiter?.at) waiter.reached();
    }
  });
  const failed = Promise.all(loops);
  failed.catch(() => undefined);
  return {
    /** Resolves once `n` more replies came; rejects when a client failed first, or after 10 s. */
    more: (n) => {
      let timer: NodeJS.Timeout | undefined;
      const reached = new Promise<void>((resolve, reject) => {
        waiter = { at: replies + n, reached: resolve };
        timer = setTimeout(() => reject(new Error(`fewer than ${n} replies in 10 s`)), 10_000);
      });
      return Promise.race([reached, failed.then(() => undefined)]).finally(() => clearTimeout(timer));
    },
    stop: async () => {
      stopped = true;
      await failed;
    },
  };
}

async function survivesReloads(global: object): Promise<void> {
  const server = await udpEcho();
  const port = await freePort();
  const config = udpConfig(port, serversAt(['s1', server.port]), global);
  const { ferry, file } = await startWith(config);
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => udpClient(port)));
  try {
    const ports = (await Promise.all(clients.map((c, i) => c.ask(`hello${i}`)))).map(portOf);
    assert.is(new Set(ports).size, CLIENTS, 'one upstream port per client');
    const asking = keepAsking(clients, ports);
    for (let reload = 1; reload <= 3; reload++) {
      const summary = await handedOver(ferry, () => reloadWith(ferry, file, config));
      assert.equal([summary.generation, summary.handedOver, summary.adopted, summary.closed, summary.lost], [reload + 1, CLIENTS, CLIENTS, 0, 0]);
      // Every client gets answers from the new generation too before the next reload.
      await asking.more(2 * CLIENTS);
    }
    await asking.stop();
    assert.equal(new Set(server.sources), new Set(ports), 'the server saw only the first upstream ports');
    await oldGone(ferry, 4);
    const { dns, app } = await stat(ferry);
    assert.equal([dns?.current, dns?.datagrams?.flows, dns?.datagrams?.dropped], [CLIENTS, CLIENTS, 0], 'the flows live in the new generation');
    assert.is(dns?.datagrams?.flowsTotal, 0, 'adopted flows are not new ones');
    assert.equal([app.current, app.servers[0].active], [CLIENTS, CLIENTS], 'each flow holds its server');
  } finally {
    clients.forEach((c) => c.close());
    assert.equal(await ferry.stop(), { code: 0, signal: null });
    server.close();
  }
}

test('flows survive 3 reloads in a row: same upstream port, every datagram answered', () => survivesReloads({}));

test('with 2 groups of 2 threads (worker threads, a new worker process each time) flows survive 3 reloads', () => survivesReloads({ groups: 2, threads: 2 }));

test("a reload that removes a flow's server, or moves it, closes the flow; the client's next datagram starts a new one", async () => {
  const [a, b, c] = [await udpEcho(), await udpEcho(), await udpEcho()];
  const port = await freePort();
  const { ferry, file } = await startWith(udpConfig(port, serversAt(['a', a.port], ['b', b.port])));
  const clients = await Promise.all([0, 1, 2, 3].map(() => udpClient(port)));
  try {
    const ports = (await Promise.all(clients.map((cl, i) => cl.ask(`c${i}`)))).map(portOf);
    const onA = ports.map((p) => a.sources.includes(p));
    assert.equal(onA, [true, false, true, false], 'roundrobin over flows');

    let summary = await handedOver(ferry, () => reloadWith(ferry, file, udpConfig(port, serversAt(['b', b.port]))));
    assert.equal([summary.handedOver, summary.adopted, summary.closed], [4, 2, 2]);
    assert.is((await closedFlows(ferry, 'backend app no longer has server a', 2)).length, 2);
    const again = (await Promise.all(clients.map((cl, i) => cl.ask(`c${i}`)))).map(portOf);
    again.forEach((p, i) => {
      if (onA[i]) assert.ok(p !== ports[i] && b.sources.includes(p), `client ${i} starts a new flow on b`);
      else assert.is(p, ports[i], `client ${i} keeps its flow on b`);
    });
    await oldGone(ferry, 2);
    assert.is((await stat(ferry)).dns?.datagrams?.flowsTotal, 2, 'two new flows in the new generation');

    summary = await handedOver(ferry, () => reloadWith(ferry, file, udpConfig(port, serversAt(['b', c.port]))));
    assert.equal([summary.handedOver, summary.adopted, summary.closed], [4, 0, 4]);
    assert.ok(ferry.logs.some((l) => l.msg === `handed-over flow closed: server b moved to 127.0.0.1:${c.port}`));
    const moved = (await Promise.all(clients.map((cl, i) => cl.ask(`c${i}`)))).map(portOf);
    assert.equal(new Set(c.sources), new Set(moved), 'every client starts a new flow at the new address');
    await oldGone(ferry, 3);
    const { dns, app } = await stat(ferry);
    assert.equal([dns?.datagrams?.flows, dns?.datagrams?.flowsTotal, app.current], [4, 4, 4]);
  } finally {
    clients.forEach((cl) => cl.close());
    assert.equal(await ferry.stop(), { code: 0, signal: null });
    [a, b, c].forEach((s) => s.close());
  }
});

test('a reload that removes the UDP frontend closes its flows, and its socket', async () => {
  const server = await udpEcho();
  const [port, web] = [await freePort(), await freePort()];
  const { ferry, file } = await startWith(udpConfig(port, serversAt(['s1', server.port])));
  const clients = await Promise.all([0, 1, 2].map(() => udpClient(port)));
  try {
    await Promise.all(clients.map((cl, i) => cl.ask(`c${i}`)));
    const tcpOnly = { global: { groups: 1, threads: 1 }, frontends: { web: { bind: [`127.0.0.1:${web}`], backend: 'hello' } }, backends: { hello: HELLO } };
    const summary = await handedOver(ferry, () => reloadWith(ferry, file, tcpOnly));
    assert.equal([summary.handedOver, summary.adopted, summary.closed], [3, 0, 3]);
    assert.is((await closedFlows(ferry, 'frontend dns is gone or no longer UDP', 3)).length, 3);
    await oldGone(ferry, 2);
    await ferry.waitLog((l) => l.msg === 'receiver closed' && l.frontend === 'dns');
    await clients[0].ask('anyone?', 300).then(
      () => assert.unreachable('nobody reads the port any more'),
      (err: Error) => assert.match(err.message, 'no reply'),
    );
    assert.is((await stat(ferry)).dns, undefined);
  } finally {
    clients.forEach((cl) => cl.close());
    assert.equal(await ferry.stop(), { code: 0, signal: null });
    server.close();
  }
});

test.run();
