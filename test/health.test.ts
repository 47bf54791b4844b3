import { createServer, type IncomingHttpHeaders } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config/validate';
import { sendCommand } from '../src/control/client';
import { oneFrontend, serversAt } from './helpers/configs';
import { reloadWith, runCli, startFerry, writeConfig, type FerryProcess, type LogLine } from './helpers/ferry';
import { closeAll, exchange, freePort, holdingServer, listen, namedServer, openClient, whoAnswers, type TestServer } from './helpers/net';

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Checks fast enough for a test: a DOWN server is found within a few hundred ms. */
const FAST = { interval: '100ms', timeout: '500ms' };

async function stat(ferry: FerryProcess): Promise<Data> {
  const reply = await sendCommand(ferry.control, 'show stat');
  assert.ok(reply.ok, reply.lines.join('\n'));
  return reply.data as Data;
}

async function server(ferry: FerryProcess, name: string): Promise<Data> {
  return (await stat(ferry)).backends[0].servers.find((s: Data) => s.name === name);
}

/** Asks `show stat` until `ok` holds for the server: for what the master CLI knows and no log says. */
async function serverUntil(ferry: FerryProcess, name: string, ok: (s: Data) => boolean, what: string, timeoutMs = 10_000): Promise<Data> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await server(ferry, name);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; server ${name} is ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Both servers were checked and found UP: the test starts from a known state. */
async function checkedUp(ferry: FerryProcess, ...names: string[]): Promise<void> {
  for (const name of names) await serverUntil(ferry, name, (s) => s.check.last?.ok === true, `a first passing check of ${name}`);
}

function stateChange(server: string, to: string): (l: LogLine) => boolean {
  return (l) => l.msg === 'server state changed' && l.server === server && l.to === to;
}

function stateLines(ferry: FerryProcess, server: string): LogLine[] {
  return ferry.logs.filter((l) => l.msg === 'server state changed' && l.server === server);
}

async function tally(port: number, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const name = await whoAnswers(port);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

interface Load {
  stop(): Promise<{ answers: string[]; failures: string[] }>;
}

/** Clients one after another until stopped: which server answered each, and every client that got no answer. */
function clients(port: number): Load {
  let going = true;
  const answers: string[] = [];
  const failures: string[] = [];
  const loop = (async () => {
    while (going) {
      const r = await exchange(port).catch((e: Error) => ({ data: Buffer.alloc(0), error: e.message }));
      const name = String(r.data).trim();
      if (name === '') failures.push(r.error ?? 'closed without an answer');
      else answers.push(name);
    }
  })();
  return {
    stop: async () => {
      going = false;
      await loop;
      return { answers, failures };
    },
  };
}

test('a server that fails `fall` checks goes DOWN, traffic moves to the other without a client error, and `rise` checks bring it back', async () => {
  let a: TestServer = await namedServer('a');
  const b = await namedServer('b');
  const port = await freePort();
  const check = { ...FAST, rise: 2, fall: 3 };
  const ferry = await startFerry(oneFrontend(port, { retries: 3, check, servers: serversAt(['a', a.port], ['b', b.port]) }, { global: { threads: 2 } }));
  let load: Load | undefined;
  try {
    await ferry.waitLog((l) => l.msg === 'health checks started' && l.generation === 1 && l.servers === 2);
    await checkedUp(ferry, 'a', 'b');
    load = clients(port);
    await a.close();
    const down = await ferry.waitLog(stateChange('a', 'DOWN'));
    assert.equal([down.from, down.reason, down.backend], ['UP', 'check: connection refused (3/3)', 'app']);
    assert.is(down.level, 'warn', 'a server going DOWN is a problem: log.level "warn" shows it');
    assert.equal(await tally(port, 10), { b: 10 });
    const { answers, failures } = await load.stop();
    assert.equal(failures, [], 'every client was served');
    assert.ok(answers.length > 0);

    const s = await server(ferry, 'a');
    assert.is(s.state, 'DOWN');
    assert.equal([s.check.type, s.check.last.ok, s.check.last.result], ['tcp', false, 'connection refused']);
    assert.ok(s.check.failed >= 3 && s.check.checks > s.check.failed, JSON.stringify(s.check));

    a = await namedServer('a', { port: a.port });
    const up = await ferry.waitLog(stateChange('a', 'UP'));
    assert.equal([up.from, up.reason], ['DOWN', 'check: connected (2/2)']);
    assert.is(up.level, 'info');
    await serverUntil(ferry, 'a', (x) => x.state === 'UP', 'a UP in show stat');
    const back = await tally(port, 10);
    assert.ok(back.a > 0 && back.b > 0, JSON.stringify(back));
    // Two threads, one line per change: the master logs it, not each thread.
    assert.equal(stateLines(ferry, 'a').map((l) => l.to), ['DOWN', 'UP']);
    const text = await runCli(['ctl', '-s', ferry.control, 'show', 'stat']);
    assert.match(text.stdout, /server\s+app\/a\s+UP\s+1\s.*tcp: connected, \d+\/\d+ failed/);
  } finally {
    await load?.stop();
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('an HTTP check sends the method, path and Host configured and wants a status in the range', async () => {
  let status = 200;
  const requests: { method?: string; url?: string; headers: IncomingHttpHeaders }[] = [];
  const web = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(status).end('health\n');
  });
  const webPort = await listen(web);
  const port = await freePort();
  const check = { ...FAST, type: 'http', rise: 1, fall: 2, http: { method: 'HEAD', path: '/health?full=1', host: 'app.test', status: '200-299' } };
  const ferry = await startFerry(oneFrontend(port, { check, servers: serversAt(['web', webPort]) }));
  try {
    const first = await serverUntil(ferry, 'web', (s) => s.check.last?.ok === true, 'a passing HTTP check');
    assert.equal([first.check.type, first.check.last.result], ['http', 'HTTP 200']);
    assert.equal([requests[0].method, requests[0].url, requests[0].headers.host, requests[0].headers['user-agent']], ['HEAD', '/health?full=1', 'app.test', 'ferry-health-check']);

    status = 503;
    const down = await ferry.waitLog(stateChange('web', 'DOWN'));
    assert.is(down.reason, 'check: HTTP 503, expected 200-299 (2/2)');
    status = 204;
    const up = await ferry.waitLog(stateChange('web', 'UP'));
    assert.is(up.reason, 'check: HTTP 204 (1/1)');
  } finally {
    await ferry.stop();
    web.closeAllConnections();
    web.close();
  }
});

test('drain server: the session under way finishes, new ones go elsewhere; enable server takes it back', async () => {
  const [a, b] = [await holdingServer('a'), await holdingServer('b')];
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { servers: serversAt(['a', a.port], ['b', b.port]) }));
  try {
    const held = await openClient(port);
    await held.waitFor('\n');
    const busy = held.received().trim();
    const other = busy === 'a' ? 'b' : 'a';
    const reply = await sendCommand(ferry.control, `drain server app/${busy}`);
    assert.equal(reply.lines, [`server app/${busy}: DRAIN, weight 1`]);
    const line = await ferry.waitLog(stateChange(busy, 'DRAIN'));
    assert.equal([line.from, line.reason], ['UP', 'master CLI: drain server']);

    for (let i = 0; i < 6; i++) {
      const c = await openClient(port);
      await c.waitFor('\n');
      assert.is(c.received().trim(), other, 'a new session never goes to the draining server');
      c.socket.end();
      await c.closed;
    }
    const draining = await server(ferry, busy);
    assert.equal([draining.state, draining.admin, draining.active], ['DRAIN', 'drain', 1]);
    assert.is((busy === 'a' ? a : b).sockets.size, 1, 'the held session is still open');
    held.socket.end();
    assert.equal(await held.closed, { ended: true, error: undefined });

    assert.ok((await sendCommand(ferry.control, `enable server app/${busy}`)).ok);
    assert.is((await ferry.waitLog(stateChange(busy, 'UP'))).from, 'DRAIN');
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('disable server is MAINT: checks go on without state lines, and enable server gives the state the checks found', async () => {
  let a: TestServer = await namedServer('a');
  const b = await namedServer('b');
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { check: { ...FAST, fall: 1, rise: 1 }, servers: serversAt(['a', a.port], ['b', b.port]) }));
  try {
    await checkedUp(ferry, 'a', 'b');
    assert.equal((await sendCommand(ferry.control, 'disable server app/a')).lines, ['server app/a: MAINT, weight 1']);
    assert.equal((await ferry.waitLog(stateChange('a', 'MAINT'))).reason, 'master CLI: disable server');
    assert.equal(await tally(port, 6), { b: 6 });

    await a.close();
    const failing = await serverUntil(ferry, 'a', (s) => s.check.last?.ok === false, 'a failing check');
    assert.is(failing.state, 'MAINT');
    const enabled = await sendCommand(ferry.control, 'enable server app/a');
    assert.equal(enabled.lines, ['server app/a: DOWN, weight 1']);
    assert.equal((enabled.data as Data).state, 'DOWN');
    assert.equal(stateLines(ferry, 'a').map((l) => [l.from, l.to]), [['UP', 'MAINT'], ['MAINT', 'DOWN']]);

    a = await namedServer('a', { port: a.port });
    assert.is((await ferry.waitLog(stateChange('a', 'UP'))).from, 'DOWN');
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('backup servers serve only while no normal server is usable', async () => {
  let a: TestServer = await namedServer('a');
  const [b, spare] = [await namedServer('b'), await namedServer('spare')];
  const port = await freePort();
  const servers = { ...serversAt(['a', a.port], ['b', b.port]), spare: { address: `127.0.0.1:${spare.port}`, backup: true } };
  const ferry = await startFerry(oneFrontend(port, { check: { ...FAST, fall: 1, rise: 1 }, servers }));
  try {
    await checkedUp(ferry, 'a', 'b', 'spare');
    assert.equal(await tally(port, 6), { a: 3, b: 3 });
    assert.ok((await sendCommand(ferry.control, 'disable server app/b')).ok);
    await a.close();
    await ferry.waitLog(stateChange('a', 'DOWN'));
    await serverUntil(ferry, 'a', (s) => s.state === 'DOWN', 'a DOWN in the workers');
    assert.equal(await tally(port, 4), { spare: 4 });
    assert.match((await runCli(['ctl', '-s', ferry.control, 'show', 'stat'])).stdout, /server\s+app\/spare\s+UP \(backup\)/);

    a = await namedServer('a', { port: a.port });
    await ferry.waitLog(stateChange('a', 'UP'));
    // The master logs the change before its push reaches the workers: wait until they have it.
    await serverUntil(ferry, 'a', (s) => s.state === 'UP', 'a UP in the workers');
    assert.equal(await tally(port, 4), { a: 4 });
  } finally {
    await ferry.stop();
    await closeAll([a, b, spare]);
  }
});

test('slowstart: a server back from MAINT starts with a small share of the traffic, growing with time', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const ferry = await startFerry(oneFrontend(port, { slowstart: '20s', servers: serversAt(['a', a.port], ['b', b.port]) }));
  try {
    assert.equal(await tally(port, 4), { a: 2, b: 2 }, 'no ramp at start');
    assert.ok((await sendCommand(ferry.control, 'disable server app/a')).ok);
    assert.ok((await sendCommand(ferry.control, 'enable server app/a')).ok);
    const ramping = await server(ferry, 'a');
    assert.equal([ramping.state, ramping.weight], ['UP', 1]);
    assert.ok(ramping.effectiveWeight > 0 && ramping.effectiveWeight < 0.5, `effective weight ${ramping.effectiveWeight}`);
    const counts = await tally(port, 20);
    assert.ok((counts.a ?? 0) < 6, `a got ${counts.a} of 20 sessions while ramping`);
    await serverUntil(ferry, 'a', (s) => s.effectiveWeight > ramping.effectiveWeight, 'the effective weight growing');
    assert.match((await runCli(['ctl', '-s', ferry.control, 'show', 'stat'])).stdout, /server\s+app\/a\s+UP\s+0\.\d+\/1\s/);
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

test('passive detection: failed connects on live traffic take a server DOWN long before its next check, in every thread', async () => {
  const [a, b] = [await namedServer('a'), await namedServer('b')];
  const port = await freePort();
  const check = { interval: '1h', observe: { failures: 2 } };
  const ferry = await startFerry(oneFrontend(port, { retries: 3, check, servers: serversAt(['a', a.port], ['b', b.port]) }, { global: { threads: 2 } }));
  let load: Load | undefined;
  try {
    await a.close();
    load = clients(port);
    const down = await ferry.waitLog(stateChange('a', 'DOWN'));
    assert.is(down.reason, 'observed: 2 connect attempts in a row failed (last: refused or reset)');
    assert.is(down.level, 'warn');
    const { failures } = await load.stop();
    assert.equal(failures, [], 'every client was served');
    // The reply to show stat comes after the master's push on the same channels: every thread knows.
    const before = await server(ferry, 'a');
    assert.is(before.state, 'DOWN');
    assert.ok(before.check.checks <= 1, 'no check but the first ran');
    assert.equal(await tally(port, 20), { b: 20 });
    assert.is((await server(ferry, 'a')).failures, before.failures, 'no thread tried the DOWN server again');
  } finally {
    await load?.stop();
    await ferry.stop();
    await b.close();
  }
});

test('a reload keeps what the checks found for unchanged servers; a changed server is checked afresh', async () => {
  let a: TestServer = await namedServer('a');
  const b = await namedServer('b');
  const port = await freePort();
  const config = (aWeight: number): object => oneFrontend(port, { check: { ...FAST, fall: 1, rise: 2 }, servers: serversAt(['a', a.port, aWeight], ['b', b.port]) });
  const file = writeConfig(config(1));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    await checkedUp(ferry, 'a', 'b');
    await a.close();
    await ferry.waitLog(stateChange('a', 'DOWN'));
    const checks = (await server(ferry, 'a')).check.checks;

    assert.is((await reloadWith(ferry, file, config(1))).msg, 'reload done');
    await ferry.waitLog((l) => l.msg === 'health checks started' && l.generation === 2);
    await ferry.waitMsg('old generation exited');
    const after = await server(ferry, 'a');
    assert.is(after.state, 'DOWN', 'still DOWN in the new generation');
    assert.ok(after.check.checks >= checks, 'the counts go on');
    assert.equal(await tally(port, 4), { b: 4 });
    assert.is(stateLines(ferry, 'a').length, 1, 'no state change at the reload');

    assert.is((await reloadWith(ferry, file, config(2))).msg, 'reload done');
    const fresh = await ferry.waitLog(stateChange('a', 'DOWN'), 10_000, 1);
    assert.equal([fresh.from, fresh.reason], ['UP', 'check: connection refused (first check)']);

    a = await namedServer('a', { port: a.port });
    assert.is((await ferry.waitLog(stateChange('a', 'UP'))).reason, 'check: connected (2/2)');
  } finally {
    await ferry.stop();
    await closeAll([a, b]);
  }
});

function problemsOf(backend: object): string[] {
  const { config, problems } = validateConfig({ frontends: { web: { bind: ['127.0.0.1:8080'], backend: 'app' } }, backends: { app: backend } });
  assert.is(config, undefined);
  return problems;
}

test('config: a server\'s check refines its backend\'s, defaults fill in the rest', () => {
  const { config, problems } = validateConfig({
    frontends: { web: { bind: ['127.0.0.1:8080'], backend: 'app' } },
    backends: {
      app: {
        check: { type: 'http', interval: '5s', http: { path: '/health' }, observe: { failures: 4 } },
        slowstart: '30s',
        servers: {
          s1: { address: '127.0.0.1:9000' },
          s2: { address: '127.0.0.1:9001', check: { rise: 5, http: { host: 'example.test', status: 204 } }, slowstart: '5s' },
          s3: { address: '127.0.0.1:9002', check: false, backup: true },
        },
      },
      plain: { servers: { s1: { address: '127.0.0.1:9003', check: true }, s2: { address: '127.0.0.1:9004' } } },
    },
  });
  assert.equal(problems, []);
  const http = { method: 'GET', path: '/health', status: { min: 200, max: 399 } };
  assert.equal(config!.backends.app.servers, [
    { name: 's1', host: '127.0.0.1', port: 9000, weight: 1, check: { type: 'http', interval: 5000, timeout: 1000, rise: 2, fall: 3, http, observe: { failures: 4 } }, slowstart: 30_000 },
    { name: 's2', host: '127.0.0.1', port: 9001, weight: 1, check: { type: 'http', interval: 5000, timeout: 1000, rise: 5, fall: 3, http: { ...http, host: 'example.test', status: { min: 204, max: 204 } }, observe: { failures: 4 } }, slowstart: 5000 },
    { name: 's3', host: '127.0.0.1', port: 9002, weight: 1, backup: true, slowstart: 30_000 },
  ]);
  assert.equal(config!.backends.plain.servers, [
    { name: 's1', host: '127.0.0.1', port: 9003, weight: 1, check: { type: 'tcp', interval: 2000, timeout: 1000, rise: 2, fall: 3 } },
    { name: 's2', host: '127.0.0.1', port: 9004, weight: 1 },
  ]);
});

test('config: check, backup and slowstart problems name the key and what to write', () => {
  const problems = problemsOf({
    check: { type: 'udp', interval: 0, timeout: '1x', rise: 0, fall: 101, http: { method: 'get', path: 'health', status: '200-600', header: 'x' }, observe: {} },
    slowstart: -1,
    servers: {
      s1: { address: '127.0.0.1:9000', check: 'on', backup: 'yes', slowstart: '10q' },
      s2: { address: '127.0.0.1:9001', check: { type: 'tcp', http: { path: '/' }, intervall: '1s' } },
    },
  });
  for (const line of [
    'backends.app.check.type: expected one of "tcp", "http", found "udp"',
    'backends.app.check.interval: expected a duration above 0 such as "500ms" or "2s", found 0',
    'backends.app.check.timeout: expected a duration such as "250ms", "30s" or "5m", found "1x"',
    'backends.app.check.rise: expected an integer from 1 to 100, found 0',
    'backends.app.check.fall: expected an integer from 1 to 100, found 101',
    'backends.app.check.http.method: expected an HTTP method in capitals, such as "GET", "HEAD" or "OPTIONS", found "get"',
    'backends.app.check.http.path: expected a path that starts with "/", without spaces, such as "/health", found "health"',
    'backends.app.check.http.status: expected an HTTP status such as 200, or a range such as "200-399", found "200-600"',
    'backends.app.check.http.header: unknown key (expected one of: method, path, host, status)',
    'backends.app.check.observe.failures: required key is missing (expected an integer from 1 to 1000)',
    'backends.app.check.http: HTTP settings apply to HTTP checks only: add "type": "http" to this check',
    'backends.app.slowstart: expected a duration such as "250ms", "30s" or "5m", found -1',
    'backends.app.servers.s1.check: expected true, false or an object with the keys type, interval, timeout, rise, fall, http, observe, found "on"',
    'backends.app.servers.s1.backup: expected true or false, found "yes"',
    'backends.app.servers.s1.slowstart: expected a duration such as "250ms", "30s" or "5m", found "10q"',
    'backends.app.servers.s2.check.intervall: unknown key, did you mean "interval"? (expected one of: type, interval, timeout, rise, fall, http, observe)',
    'backends.app.servers.s2.check.http: HTTP settings apply to HTTP checks only: add "type": "http" to this check',
  ]) {
    assert.ok(problems.includes(line), `missing: ${line}\nin:\n${problems.join('\n')}`);
  }
  assert.is(problems.length, 17, problems.join('\n'));
  assert.equal(problemsOf({ check: { type: 'http', http: { status: '399-200' } }, servers: { s1: { address: '127.0.0.1:9000' } } }), [
    'backends.app.check.http.status: expected an HTTP status such as 200, or a range such as "200-399", found "399-200"',
  ]);
});

test.run();
