import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config';
import { sendCommand } from '../src/control/client';
import { oneFrontend, serversAt } from './helpers/configs';
import { reloadWith, startFerry, writeConfig, type FerryProcess } from './helpers/ferry';
import { closeAll, freePort, holdingServer, namedServer, openClient, tally, whoAnswers, type OpenClient } from './helpers/net';

/** 120 clients, each with an address of its own: 127.0.0.10 to 127.0.0.129 (all of 127/8 is loopback). */
const CLIENTS = Array.from({ length: 120 }, (_, i) => `127.0.0.${10 + i}`);

/**
 * Asserts that `count` successes out of `n` are within 4 standard deviations of a binomial(n, p)'s
 * mean: wider than any fair spread strays but once in about 15,000 runs, far narrower than the
 * failures it is there to catch.
 */
function nearShare(count: number, n: number, p: number, what: string): void {
  const mean = n * p;
  const bound = 4 * Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(count - mean) <= bound, `${what}: ${count} of ${n}, expected ${mean.toFixed(1)} ± ${bound.toFixed(1)}`);
}

/** Which server each client reaches, by client address. */
async function serverOf(port: number): Promise<Map<string, string>> {
  const reached = new Map<string, string>();
  for (const client of CLIENTS) reached.set(client, await whoAnswers(port, client));
  return reached;
}

function countOf(reached: Map<string, string>, server: string): number {
  return [...reached.values()].filter((s) => s === server).length;
}

/** Clients whose server differs between two rounds, with where they went. */
function moves(before: Map<string, string>, after: Map<string, string>): string[] {
  return CLIENTS.filter((c) => before.get(c) !== after.get(c)).map((c) => after.get(c)!);
}

/**
 * A command's effect is in every thread once `show stat` answers: the worker handles the master's
 * messages in order, and each thread its coordinator's.
 */
async function command(ferry: FerryProcess, line: string): Promise<void> {
  const reply = await sendCommand(ferry.control, line);
  assert.ok(reply.ok, `${line}: ${reply.lines.join('\n')}`);
  assert.ok((await sendCommand(ferry.control, 'show stat')).ok);
}

function balanceOf(balance: unknown): unknown {
  const { config, problems } = validateConfig(oneFrontend(8080, { balance, servers: serversAt(['s1', 9000]) }));
  return config?.backends.app.balance ?? problems;
}

test('balance: the algorithms and their arguments; uri and hdr() refused behind a TCP frontend', () => {
  assert.equal(balanceOf('source'), { algorithm: 'source' });
  assert.equal(balanceOf('random'), { algorithm: 'random', draws: 2 });
  assert.equal(balanceOf('random(3)'), { algorithm: 'random', draws: 3 });
  assert.equal(balanceOf('random(0)'), ['backends.app.balance: random(N) takes a number of draws from 1 to 16, found "random(0)"']);
  assert.equal(balanceOf('random(two)'), ['backends.app.balance: random(N) takes a number of draws from 1 to 16, found "random(two)"']);
  // The frontend here is a TCP one: the request hashes need HTTP requests (test/http-routing.test.ts has them working).
  assert.equal(balanceOf('uri'), ['backends.app.balance: "uri" hashes HTTP requests, and frontend "web" (mode tcp) uses this backend; use the backend only from HTTP frontends, or balance by "source" to keep each client on one server']);
  assert.match(String(balanceOf('hdr(host)')), '"hdr(host)" hashes HTTP requests, and frontend "web" (mode tcp) uses this backend');
  assert.equal(balanceOf(2), ['backends.app.balance: expected one of "roundrobin", "leastconn", "source", "random" or "random(N)" (N draws, 1 to 16), or in HTTP mode "uri", "uri(whole)" or "hdr(name)", found 2']);
});

test('source: a client always reaches the same server, clients spread by weight, and a server added by reload takes only its share', async () => {
  const servers = [await namedServer('a'), await namedServer('b'), await namedServer('c')];
  const port = await freePort();
  const config = (list: [string, number][]): object => oneFrontend(port, { balance: 'source', servers: serversAt(...list) }, { global: { groups: 2 } });
  const three: [string, number][] = [['a', servers[0].port], ['b', servers[1].port], ['c', servers[2].port]];
  const file = writeConfig(config(three));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const first = await serverOf(port);
    for (const name of ['a', 'b', 'c']) nearShare(countOf(first, name), CLIENTS.length, 1 / 3, `clients on ${name}`);
    // Two worker processes: whichever accepts, a client gets the same answer.
    assert.equal(await serverOf(port), first);

    servers.push(await namedServer('d'));
    const outcome = await reloadWith(ferry, file, config([...three, ['d', servers[3].port]]));
    assert.is(outcome.msg, 'reload done');
    await ferry.waitMsg('old generation exited');
    const moved = moves(first, await serverOf(port));
    // Only the clients the new server takes move, a quarter of them; a hash modulo the number of
    // servers would move three quarters.
    assert.equal(new Set(moved), new Set(['d']), `every client that moved went to the new server: ${moved.join(' ')}`);
    nearShare(moved.length, CLIENTS.length, 1 / 4, 'clients moved');
  } finally {
    await ferry.stop();
    await closeAll(servers);
  }
});

test('source: set weight moves clients only to or from that server, and a disabled server\'s clients fall through to their next choice', async () => {
  const servers = [await namedServer('a'), await namedServer('b'), await namedServer('c')];
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { balance: 'source', servers: serversAt(['a', servers[0].port], ['b', servers[1].port], ['c', servers[2].port]) }));
  try {
    const before = await serverOf(port);
    await command(ferry, 'set weight app/a 3');
    const heavier = await serverOf(port);
    assert.equal(new Set(moves(before, heavier)), new Set(['a']));
    nearShare(countOf(heavier, 'a'), CLIENTS.length, 3 / 5, 'clients on a at weight 3 of 5');

    await command(ferry, 'disable server app/b');
    const withoutB = await serverOf(port);
    const movedFromB = CLIENTS.filter((c) => heavier.get(c) !== withoutB.get(c));
    assert.ok(movedFromB.every((c) => heavier.get(c) === 'b'), 'only b\'s clients move');
    assert.is(countOf(withoutB, 'b'), 0);

    await command(ferry, 'enable server app/b');
    assert.equal(await serverOf(port), heavier, 'back where they were');
  } finally {
    await ferry.stop();
    await closeAll(servers);
  }
});

test('random(2): sessions spread by weight, and set weight shows in the spread', async () => {
  const servers = [await namedServer('a'), await namedServer('b'), await namedServer('c')];
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { balance: 'random(2)', servers: serversAt(['a', servers[0].port], ['b', servers[1].port], ['c', servers[2].port]) }));
  try {
    const n = 120;
    const even = await tally(port, n);
    for (const name of ['a', 'b', 'c']) nearShare(even[name] ?? 0, n, 1 / 3, `sessions on ${name}`);
    await command(ferry, 'set weight app/c 4');
    // Idle servers tie, so the first server drawn takes the session: c with a chance of 4 in 6.
    const weighted = await tally(port, n);
    nearShare(weighted.c ?? 0, n, 4 / 6, 'sessions on c at weight 4 of 6');
  } finally {
    await ferry.stop();
    await closeAll(servers);
  }
});

test('random(2): a server holding sessions gets a new one only when it is drawn twice', async () => {
  const servers = [await holdingServer('a'), await holdingServer('b'), await holdingServer('c')];
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { balance: 'random', servers: serversAt(['a', servers[0].port], ['b', servers[1].port], ['c', servers[2].port]) }));
  const held: OpenClient[] = [];
  try {
    await command(ferry, 'disable server app/b');
    await command(ferry, 'disable server app/c');
    for (let i = 0; i < 2; i++) {
      const client = await openClient(port);
      await client.waitFor('a');
      held.push(client);
    }
    await command(ferry, 'enable server app/b');
    await command(ferry, 'enable server app/c');
    const n = 90;
    const spread = await tally(port, n);
    // a is chosen only when both draws fall on it (1 in 9); one draw alone would give it 1 in 3.
    nearShare(spread.a ?? 0, n, 1 / 9, 'sessions on the busy server a');
    nearShare(spread.b ?? 0, n, 4 / 9, 'sessions on b');
  } finally {
    for (const client of held) client.socket.destroy();
    await ferry.stop();
    await closeAll(servers);
  }
});

test.run();
