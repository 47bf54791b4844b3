import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reloadWith, runCli, startFerry, writeConfig, type FerryProcess } from './helpers/ferry';
import { httpBackend } from './helpers/http';
import { checkWithPromtool, decreases, fetchText, PROMTOOL, scrape, total, type Scrape } from './helpers/metrics';
import { exchange, freePort } from './helpers/net';
import { udpClient, udpEcho } from './helpers/udp';

function config(web: number, stats: number, app: number, weight = 1): object {
  return {
    global: { groups: 2, threads: 1 },
    frontends: {
      web: { bind: [`127.0.0.1:${web}`], mode: 'http', backend: 'app' },
      stats: { bind: [`127.0.0.1:${stats}`], mode: 'http', backend: 'stats' },
    },
    backends: { app: { servers: { a1: { address: `127.0.0.1:${app}`, weight } } }, stats: { service: 'stats' } },
  };
}

/** `n` GETs spread over the keep-alive `agents`, each agent's one after the other; the statuses other than 200. */
async function drive(port: number, agents: Agent[], n: number): Promise<string[]> {
  const failures: string[] = [];
  const one = (agent: Agent): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/load', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`);
          resolve();
        });
      });
      req.on('error', (e) => {
        failures.push(e.message);
        resolve();
      });
      req.end();
    });
  await Promise.all(agents.map(async (agent, i) => {
    for (let k = i; k < n; k += agents.length) await one(agent);
  }));
  return failures;
}

/**
 * Scrapes one after the other until stopped, keeping every scrape in the order they were made (one
 * at a time: two in flight could come back in either order); `until` waits (bounded) for a scrape
 * that satisfies a condition, as the counters are at most a second stale, never wrong.
 */
function scraper(port: number): { scrapes: Scrape[]; errors: string[]; until(what: string, ok: (s: Scrape) => boolean, timeoutMs?: number): Promise<Scrape>; stop(): Promise<void> } {
  const scrapes: Scrape[] = [];
  const errors: string[] = [];
  let going = true;
  let waiters: (() => void)[] = [];
  const loop = (async () => {
    while (going) {
      try {
        scrapes.push(await scrape(port));
      } catch (err) {
        errors.push((err as Error).message);
      }
      waiters.forEach((w) => w());
    }
  })();
  const next = (): Promise<void> => new Promise((resolve) => waiters.push(resolve));
  return {
    scrapes,
    errors,
    async until(what, ok, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (let seen = scrapes.length; ; seen = scrapes.length) {
        await next();
        waiters = [];
        const found = scrapes.slice(seen).find(ok);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no scrape in ${timeoutMs} ms where ${what}; last:\n${scrapes.at(-1)?.text.split('\n').filter((l) => l.includes(what.split(' ')[0])).join('\n')}`);
      }
    },
    async stop() {
      going = false;
      await loop;
    },
  };
}

const requests = (s: Scrape): number => total(s, 'ferry_frontend_http_requests_total', 'frontend="web"');

/** Each scrape against the one before it: no counter went down. */
function assertMonotonic(scrapes: readonly Scrape[]): void {
  assert.ok(scrapes.length >= 2, `at least two scrapes to compare, got ${scrapes.length}`);
  for (let i = 1; i < scrapes.length; i++) {
    const bad = decreases(scrapes[i - 1], scrapes[i]);
    assert.equal(bad, [], `scrape ${i} against scrape ${i - 1}`);
  }
}

async function currentWorkers(ferry: FerryProcess): Promise<number[]> {
  const proc = await runCli(['ctl', '-s', ferry.control, '--json', 'show', 'proc']);
  const data = JSON.parse(proc.stdout) as { data: { workers: { pid: number; role: string; state: string }[] } };
  return data.data.workers.filter((w) => w.role === 'current' && w.state === 'ready').map((w) => w.pid);
}

test('every _total only grows over 1,000 requests, 3 reloads (2 in place, 1 in new processes) with keep-alive clients, 1,000 more and a worker SIGKILLed; the generation and the hand-overs are counted', async () => {
  const app = await httpBackend();
  const [web, stats] = [await freePort(), await freePort()];
  const file = writeConfig(config(web, stats, app.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  const agents = [1, 2, 3, 4].map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const scrapes = scraper(stats);
  try {
    assert.equal(await drive(web, agents, 1000), []);
    await scrapes.until('ferry_frontend_http_requests_total >= 1000', (s) => requests(s) >= 1000);
    for (const weight of [2, 3]) {
      // The agents' connections are idle and open: each reload hands them over, in place.
      const outcome = await reloadWith(ferry, file, config(web, stats, app.port, weight));
      assert.is(outcome.msg, 'reload done');
      assert.equal(await drive(web, agents, 40), []);
    }
    // The third in new worker processes: the old ones send their last counters as they exit.
    writeFileSync(file, JSON.stringify(config(web, stats, app.port, 4)));
    const processes = await runCli(['ctl', '-s', ferry.control, 'reload', 'processes']);
    assert.is(processes.code, 0, processes.stdout + processes.stderr);
    assert.equal(await drive(web, agents, 40), []);
    assert.equal(await drive(web, agents, 1000), []);
    let last = await scrapes.until('ferry_frontend_http_requests_total >= 2120', (s) => requests(s) >= 2120);
    last = await scrapes.until('ferry_handed_over_total > 0', (s) => total(s, 'ferry_handed_over_total') > 0);
    // The old workers have exited: what they counted is in the totals, from their last counters.
    await ferry.waitLog((l) => l.msg === 'old generation exited' && l.generation === 3, 15_000);
    last = await scrapes.until('ferry_frontend_http_requests_total >= 2120', (s) => requests(s) >= 2120);
    assert.is(total(last, 'ferry_generation'), 4);
    assert.is(total(last, 'ferry_reloads_total'), 3);
    assert.is(total(last, 'ferry_frontend_http_responses_total', 'frontend="web"', 'code="2xx"'), requests(last), 'every request answered 2xx, counted once');
    assert.ok(total(last, 'ferry_server_sessions_total', 'server="a1"') >= 2120);
    assert.ok(total(last, 'ferry_frontend_bytes_out_total', 'frontend="web"') > 0);
    const sessions = total(last, 'ferry_frontend_sessions_total', 'frontend="web"');
    assert.ok(sessions >= 4 && sessions < 20, `the agents' few connections, each accepted once: ${sessions}`);
    assert.is(total(last, 'ferry_backend_sessions_total', 'backend="app"'), sessions, 'a session handed over counts once in its backend too');

    assert.equal(scrapes.errors, [], 'no scrape failed before a worker was killed');
    const workers = await currentWorkers(ferry);
    assert.is(workers.length, 2);
    const started = ferry.workerPids.length;
    process.kill(workers[0], 'SIGKILL');
    await ferry.waitLog((l) => l.msg === 'worker ready' && l.worker === ferry.workerPids[started], 15_000);
    assert.equal(await drive(web, agents.map(() => new Agent({ keepAlive: false })), 100), []);
    last = await scrapes.until('ferry_frontend_http_requests_total >= 2220', (s) => requests(s) >= 2220);
    assert.is(total(last, 'ferry_worker_restarts_total'), 1);
    await scrapes.stop();
    assertMonotonic(scrapes.scrapes);
    if (PROMTOOL !== undefined) assert.is(checkWithPromtool(last.text), undefined);
    else console.log('metrics.test: promtool is missing (.ci/run installs Debian\'s prometheus package): the exposition was not checked by it');
  } finally {
    await scrapes.stop();
    for (const a of agents) a.destroy();
    await ferry.stop();
    await app.close();
  }
});

test('ctl show metrics prints the exposition, show stat the counters since start, and the stats service answers its three paths', async () => {
  const app = await httpBackend();
  const [web, stats] = [await freePort(), await freePort()];
  const ferry = await startFerry(config(web, stats, app.port));
  try {
    assert.equal(await drive(web, [new Agent({ keepAlive: true, maxSockets: 1 })], 10), []);
    assert.match(String((await exchange(web, 'NOT HTTP\r\n\r\n')).data), /^HTTP\/1\.1 400 /);
    const metrics = await runCli(['ctl', '-s', ferry.control, 'show', 'metrics']);
    assert.is(metrics.code, 0, metrics.stderr);
    assert.match(metrics.stdout, /^# HELP ferry_generation /m);
    assert.match(metrics.stdout, /^ferry_frontend_http_requests_total\{frontend="web"\} 11$/m, 'show metrics asks the workers first: nothing stale');
    assert.match(metrics.stdout, /^ferry_frontend_http_responses_total\{frontend="web",code="4xx"\} 1$/m, 'a request the proxy refused counts too');
    assert.match(metrics.stdout, /^ferry_backend_http_responses_total\{backend="app",code="2xx"\} 10$/m);
    const stat = await runCli(['ctl', '-s', ferry.control, '--json', 'show', 'stat']);
    const data = (JSON.parse(stat.stdout) as { data: { sinceStart: { frontends: { name: string; traffic: { statuses: number[] } }[] } } }).data;
    const webSince = data.sinceStart.frontends.find((f) => f.name === 'web');
    assert.equal(webSince?.traffic.statuses, [0, 0, 10, 0, 1, 0]);
    const page = await fetchText(stats, '/');
    assert.is(page.status, 200);
    assert.is(page.type, 'text/html; charset=utf-8');
    const json = await fetchText(stats, '/stats.json');
    assert.is(json.type, 'application/json');
    const parsed = JSON.parse(json.body) as { generation: number; backends: { name: string; servers: { name: string; state: string }[] }[] };
    assert.is(parsed.generation, 1);
    assert.equal(parsed.backends.find((b) => b.name === 'app')?.servers.map((s) => [s.name, s.state]), [['a1', 'UP']]);
    const scraped = await fetchText(stats, '/metrics');
    assert.is(scraped.type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(scraped.body, /^ferry_server_state\{backend="app",server="a1",state="UP"\} 1$/m);
    const human = await runCli(['ctl', '-s', ferry.control, 'show', 'stat']);
    assert.match(human.stdout, /^since start\s+name\s+sess\/s\s+req\/s\s+bytes in/m);
    assert.match(human.stdout, /^server\s+app\/a1\s+(-|\d+\.\d)\s+(-|\d+\.\d)\s+\d+\s+\d+\s+0\s+10\s/m, 'sess/s, req/s, bytes in and out, then no 1xx and ten 2xx');
  } finally {
    await ferry.stop();
    await app.close();
  }
});

test('health checks are counted by result in the master, and the counts go on across a reload', async () => {
  const app = await httpBackend();
  const hole = await freePort();
  const [web, stats] = [await freePort(), await freePort()];
  const checked = {
    global: { groups: 1, threads: 1 },
    frontends: { web: { bind: [`127.0.0.1:${web}`], mode: 'http', backend: 'app' }, stats: { bind: [`127.0.0.1:${stats}`], mode: 'http', backend: 'stats' } },
    backends: { app: { check: { interval: '50ms' }, servers: { up: { address: `127.0.0.1:${app.port}` }, down: { address: `127.0.0.1:${hole}` } } }, stats: { service: 'stats' } },
  };
  const file = writeConfig(checked);
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  const counts = async (): Promise<[number, number]> => {
    const s = await scrape(stats);
    return [total(s, 'ferry_server_checks_total', 'server="up"', 'result="ok"'), total(s, 'ferry_server_checks_total', 'server="down"', 'result="failed"')];
  };
  try {
    let before: [number, number] = [0, 0];
    for (let tries = 0; (before[0] < 3 || before[1] < 3) && tries < 100; tries++) {
      before = await counts();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(before[0] >= 3 && before[1] >= 3, `checks counted: ${before}`);
    const s = await scrape(stats);
    assert.is(total(s, 'ferry_server_checks_total', 'server="up"', 'result="failed"'), 0, 'no failed check of the server that answers');
    assert.is((await reloadWith(ferry, file, checked)).msg, 'reload done');
    const after = await counts();
    assert.ok(after[0] >= before[0] && after[1] >= before[1], `${before} then ${after}`);
  } finally {
    await ferry.stop();
    await app.close();
  }
});

test('UDP: datagrams and flows are counted, and flows handed over on a reload in new processes count by kind', async () => {
  const echo = await udpEcho();
  const [dns, stats] = [await freePort(), await freePort()];
  const ferry = await startFerry({
    global: { groups: 2, threads: 1 },
    frontends: {
      dns: { mode: 'udp', bind: [`udp@127.0.0.1:${dns}`], backend: 'app' },
      stats: { bind: [`127.0.0.1:${stats}`], mode: 'http', backend: 'stats' },
    },
    backends: { app: { servers: { e1: { address: `127.0.0.1:${echo.port}` } } }, stats: { service: 'stats' } },
  });
  const clients = await Promise.all([1, 2, 3, 4].map(() => udpClient(dns)));
  const scrapes = scraper(stats);
  try {
    for (const [i, c] of clients.entries()) assert.match(await c.ask(`before-${i}`), /:before-/);
    const reload = await runCli(['ctl', '-s', ferry.control, 'reload', 'processes']);
    assert.is(reload.code, 0, reload.stdout + reload.stderr);
    for (const [i, c] of clients.entries()) assert.match(await c.askUntilAnswered(`after-${i}`, 5_000), /:after-/);
    const datagrams = (s: Scrape, fate: string): number => total(s, 'ferry_udp_datagrams_total', 'frontend="dns"', `fate="${fate}"`);
    const last = await scrapes.until('ferry_handed_over_total{kind="flow"} >= 4 and 8 datagrams each way', (s) => total(s, 'ferry_handed_over_total', 'kind="flow"') >= 4 && datagrams(s, 'in') >= 8 && datagrams(s, 'out') >= 8);
    assert.is(total(last, 'ferry_udp_flows_total', 'frontend="dns"'), 4, 'a flow handed over is not a new flow');
    assert.is(total(last, 'ferry_generation'), 2);
    await scrapes.stop();
    assertMonotonic(scrapes.scrapes);
  } finally {
    await scrapes.stop();
    for (const c of clients) c.close();
    await ferry.stop();
    echo.close();
  }
});

test.run();
