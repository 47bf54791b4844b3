import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config';
import { sendCommand } from '../src/control/client';
import { oneFrontend } from './helpers/configs';
import { dnsServer, type DnsServer } from './helpers/dns';
import { reloadWith, runCli, startFerry, writeConfig, type FerryProcess } from './helpers/ferry';
import { closeAll, freePort, holdingServer, openClient, whoAnswers } from './helpers/net';

const NAME = 'app.ferry.test';

/** One server "s1" at `host`:`port`, resolved through the test's DNS server every 100 ms. */
function named(port: number, host: string, dns: DnsServer, backendPort: number): object {
  return oneFrontend(port, { resolve: { interval: '100ms', nameservers: [dns.address] }, servers: { s1: { address: `${host}:${backendPort}` } } });
}

type StatData = { backends: { queue: { current: number }; servers: { address: string; state: string; check: { last: { result: string } | null } | null }[] }[] };

/**
 * The address `show stat` gives s1. Once it answers, every thread has what the master pushed before:
 * the worker handles the master's messages in order, and each thread its coordinator's.
 */
async function shownAddress(ferry: FerryProcess): Promise<string> {
  const reply = await sendCommand(ferry.control, 'show stat');
  return (reply.data as StatData).backends[0].servers[0].address;
}

function resolveOf(resolve: unknown): unknown {
  const { config, problems } = validateConfig(oneFrontend(8080, { resolve, servers: { s1: { address: 'db.internal:5432' } } }));
  return config?.backends.app.resolve ?? problems;
}

test('resolve: nameservers by address, with or without a port; an interval of 0 means at start and reload only', () => {
  assert.equal(resolveOf({ interval: '10s', nameservers: ['10.0.0.2', '127.0.0.1:5353', '[::1]:53', 'fe80::1'] }), {
    interval: 10_000,
    nameservers: ['10.0.0.2:53', '127.0.0.1:5353', '[::1]:53', '[fe80::1]:53'],
  });
  assert.equal(resolveOf({ interval: 0 }), {});
  assert.equal(resolveOf({ intervall: '1s', interval: '10x', nameservers: ['dns.example:53', '10.0.0.2:0', 53] }), [
    'backends.app.resolve.intervall: unknown key, did you mean "interval"? (expected one of: interval, nameservers)',
    'backends.app.resolve.interval: expected a duration such as "250ms", "30s" or "5m", found "10x"',
    'backends.app.resolve.nameservers[0]: "dns.example:53": "dns.example" is not an IP address (a nameserver is given by address)',
    'backends.app.resolve.nameservers[1]: "10.0.0.2:0": port must be 1-65535',
    'backends.app.resolve.nameservers[2]: expected a DNS server address such as "127.0.0.53", "10.0.0.2:53" or "[::1]:5353", found 53',
  ]);
});

test('a server name follows its address changes; the session on the old address goes on', async () => {
  const dns = await dnsServer({ [NAME]: '127.0.0.1' });
  const backendPort = await freePort();
  // The same port on two loopback addresses: only the name's address tells them apart.
  const [one, two] = [await holdingServer('one', { host: '127.0.0.1', port: backendPort }), await holdingServer('two', { host: '127.0.0.2', port: backendPort })];
  const port = await freePort();
  const ferry = await startFerry(named(port, NAME, dns, backendPort));
  try {
    const resolved = await ferry.waitMsg('server address resolved');
    assert.equal([resolved.server, resolved.host, resolved.address], ['s1', NAME, '127.0.0.1']);
    const old = await openClient(port);
    await old.waitFor('one');

    dns.set(NAME, '127.0.0.2');
    const changed = await ferry.waitMsg('server address changed');
    assert.equal([changed.backend, changed.server, changed.from, changed.to], ['app', 's1', '127.0.0.1', '127.0.0.2']);
    assert.is(await shownAddress(ferry), `${NAME}:${backendPort} (127.0.0.2)`);
    assert.is(await whoAnswers(port), 'two');
    assert.is(one.sockets.size, 1, 'the session through the old address is still connected');

    const client = `127.0.0.1:${old.socket.localPort}`;
    old.socket.end();
    assert.equal(await old.closed, { ended: true, error: undefined });
    const session = await ferry.waitLog((l) => l.msg === 'session' && l.client === client);
    assert.equal([session.server, session.termination], ['s1', '--'], 'the old session ended normally');
    assert.is(await whoAnswers(port), 'two');
  } finally {
    await ferry.stop();
    await closeAll([one, two]);
    await dns.close();
  }
});

test('a name that stops resolving makes its server unusable, with a log line, until it resolves again', async () => {
  const dns = await dnsServer({ [NAME]: '127.0.0.1' });
  const backend = await holdingServer('one');
  const port = await freePort();
  const ferry = await startFerry(named(port, NAME, dns, backend.port));
  try {
    assert.is(await whoAnswers(port), 'one');
    dns.set(NAME, undefined);
    const gone = await ferry.waitLog((l) => l.msg.startsWith('server unresolvable'));
    assert.equal([gone.backend, gone.server, gone.host], ['app', 's1', NAME]);
    assert.is(gone.reason, `cannot resolve "${NAME}": ENOTFOUND (no such name) at ${dns.address}`);
    assert.is(await shownAddress(ferry), `${NAME}:${backend.port} (unresolvable)`);
    assert.is(((await sendCommand(ferry.control, 'show stat')).data as StatData).backends[0].servers[0].state, 'DOWN');
    // No usable server: a new client waits in the backend queue, and is served once the name resolves.
    const waiting = await openClient(port);
    let queued = 0;
    for (let ask = 0; ask < 100 && queued === 0; ask++) queued = ((await sendCommand(ferry.control, 'show stat')).data as StatData).backends[0].queue.current;
    assert.is(queued, 1);

    dns.set(NAME, '127.0.0.1');
    await ferry.waitLog((l) => l.msg === 'server address resolved', 10_000, 1);
    await waiting.waitFor('one');
    assert.is(await shownAddress(ferry), `${NAME}:${backend.port} (127.0.0.1)`);
    waiting.socket.destroy();
    assert.is(await whoAnswers(port), 'one');
  } finally {
    await ferry.stop();
    await backend.close();
    await dns.close();
  }
});

test('a name that does not resolve at check, start or reload is a configuration problem naming the server', async () => {
  const dns = await dnsServer({ [NAME]: '127.0.0.1' });
  const backend = await holdingServer('one');
  const port = await freePort();
  const problem = `backends.app.servers.s1: cannot resolve "missing.ferry.test": ENOTFOUND (no such name) at ${dns.address}`;
  try {
    const missing = writeConfig(named(port, 'missing.ferry.test', dns, backend.port));
    const check = await runCli(['check', '--no-bind', '-c', missing]);
    assert.is(check.code, 1);
    assert.match(check.stderr, `names servers that do not resolve:\n  - ${problem}\n`);

    const system = await runCli(['check', '--no-bind', '-c', writeConfig(oneFrontend(port, { servers: { s1: { address: 'nowhere.invalid:80' } } }))]);
    assert.is(system.code, 1);
    assert.match(system.stderr, /backends\.app\.servers\.s1: cannot resolve "nowhere\.invalid": \S+.* from the system resolver/);

    const start = await startFerry(undefined, { args: ['-c', missing], waitReady: false });
    assert.is((await start.exited).code, 1);
    assert.is(start.stderr, `ferry: cannot start:\n  - ${problem}\n`);
    assert.not.ok(start.logs.some((l) => l.msg === 'receiver bound'), 'nothing bound');

    const file = writeConfig(named(port, NAME, dns, backend.port));
    const ferry = await startFerry(undefined, { args: ['-c', file] });
    try {
      const refused = await reloadWith(ferry, file, named(port, 'missing.ferry.test', dns, backend.port));
      assert.is(refused.msg, 'reload refused: the running generation goes on unchanged');
      assert.equal(refused.problems, [problem]);
      assert.is(await whoAnswers(port), 'one');
    } finally {
      await ferry.stop();
    }
  } finally {
    await backend.close();
    await dns.close();
  }
});

test('health checks of a server given by host name go where its name resolved to', async () => {
  const dns = await dnsServer({ [NAME]: '127.0.0.1' });
  const backendPort = await freePort();
  const one = await holdingServer('one', { host: '127.0.0.1', port: backendPort });
  const port = await freePort();
  const check = { type: 'tcp', interval: '100ms', rise: 1, fall: 1 };
  const ferry = await startFerry(oneFrontend(port, { resolve: { interval: '100ms', nameservers: [dns.address] }, check, servers: { s1: { address: `${NAME}:${backendPort}` } } }));
  try {
    // The system's resolver does not know the name: a check that looked it up itself would fail.
    let server: StatData['backends'][0]['servers'][0] | undefined;
    for (let ask = 0; ask < 100 && !server?.check?.last; ask++) server = ((await sendCommand(ferry.control, 'show stat')).data as StatData).backends[0].servers[0];
    assert.equal([server?.state, server?.check?.last?.result], ['UP', 'connected']);

    // Nothing listens at the name's next address: its checks fail there.
    dns.set(NAME, '127.0.0.2');
    const down = await ferry.waitLog((l) => l.msg === 'server state changed' && l.to === 'DOWN');
    assert.match(String(down.reason), /connection refused/);
  } finally {
    await ferry.stop();
    await one.close();
    await dns.close();
  }
});

test.run();
