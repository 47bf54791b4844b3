import { writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startFerry, writeConfig, type FerryProcess } from './helpers/ferry';
import { exchange, freePort, holdingServer, openClient } from './helpers/net';
import { listeningInodes } from './helpers/proc';

function helloConfig(binds: number[], groups = 1): object {
  return {
    global: { groups, hardStopAfter: '20s' },
    frontends: { web: { bind: binds.map((p) => `127.0.0.1:${p}`), backend: 'hello' } },
    backends: { hello: { service: 'hello' } },
  };
}

async function generationAt(port: number): Promise<number> {
  const m = /generation (\d+)/.exec(String((await exchange(port, '', { end: false })).data));
  if (m === null) throw new Error('no greeting');
  return Number(m[1]);
}

async function reload(ferry: FerryProcess, file: string, config: object, signal: NodeJS.Signals = 'SIGHUP'): Promise<void> {
  const done = ferry.logs.filter((l) => l.msg === 'reload done' || l.msg.startsWith('reload refused')).length;
  writeFileSync(file, JSON.stringify(config));
  ferry.proc.kill(signal);
  await ferry.waitLog((l) => l.msg === 'reload done' || l.msg.startsWith('reload refused'), 15_000, done);
}

test('a reload starts the next generation on the same socket while the old one finishes its sessions', async () => {
  const [a, b] = [await holdingServer('a'), await holdingServer('b')];
  const port = await freePort();
  const config = (server: number): object => ({
    global: { groups: 1, hardStopAfter: '20s' },
    frontends: { web: { bind: [`127.0.0.1:${port}`], backend: 'app' } },
    backends: { app: { servers: { s: { address: `127.0.0.1:${server}` } } } },
  });
  const file = writeConfig(config(a.port));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    const [socket] = listeningInodes(port);
    const old = await openClient(port);
    await old.waitFor('a');
    await reload(ferry, file, config(b.port), 'SIGUSR2');
    const fresh = await openClient(port);
    await fresh.waitFor('b');
    assert.equal(listeningInodes(port), [socket], 'the very same listening socket');
    // The old generation's session goes on until its client ends it; then the generation exits.
    assert.is(ferry.logs.some((l) => l.msg === 'old generation exited'), false);
    old.socket.end();
    const { error } = await old.closed;
    assert.is(error, undefined);
    await ferry.waitMsg('old generation exited');
    fresh.socket.end();
    await fresh.closed;
  } finally {
    await ferry.stop();
    await a.close();
    await b.close();
  }
});

test('an invalid configuration is refused, with its problems, and changes nothing', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig([port]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    await reload(ferry, file, { ...helloConfig([port]), global: { groups: 0 } });
    const refused = ferry.logs.find((l) => l.msg.startsWith('reload refused'))!;
    assert.match(JSON.stringify(refused.problems), /global\.groups: expected an integer from 1 to 64, found 0/);
    assert.is(await generationAt(port), 1);
  } finally {
    await ferry.stop();
  }
});

test('binds added by a reload open; binds it removes close once the old generation is gone', async () => {
  const [p1, p2] = [await freePort(), await freePort()];
  const file = writeConfig(helloConfig([p1]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    await reload(ferry, file, helloConfig([p1, p2]));
    assert.is(await generationAt(p1), 2);
    assert.is(await generationAt(p2), 2);
    await reload(ferry, file, helloConfig([p2]));
    await ferry.waitLog((l) => l.msg === 'receiver closed' && l.bind === `127.0.0.1:${p1}`);
    assert.equal(listeningInodes(p1), []);
    assert.is(await generationAt(p2), 3);
  } finally {
    await ferry.stop();
  }
});

test('a bind a reload cannot make refuses the reload', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig([port]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    // An address this host lacks: nobody can bind it, root or not.
    await reload(ferry, file, { ...helloConfig([port]), frontends: { web: { bind: [`127.0.0.1:${port}`, '192.0.2.1:8080'], backend: 'hello' } } });
    const refused = ferry.logs.filter((l) => l.msg.startsWith('reload refused')).pop()!;
    assert.match(JSON.stringify(refused.problems), /192\.0\.2\.1:8080.*address not available/);
    assert.is(await generationAt(port), 1);
  } finally {
    await ferry.stop();
  }
});

test('a new generation whose worker dies before it is ready is given up, and the old one serves on', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig([port]));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    ferry.proc.kill('SIGHUP');
    const started = await ferry.waitLog((l) => l.msg === 'worker started' && l.generation === 2);
    process.kill(started.worker as number, 'SIGKILL');
    const refused = await ferry.waitLog((l) => l.msg.startsWith('reload refused'));
    assert.is(refused.reason, 'new workers did not start');
    assert.is(await generationAt(port), 1);
    assert.is(ferry.logs.some((l) => l.msg === 'worker died: restarting it'), false, 'no restart of a failed new generation');
  } finally {
    await ferry.stop();
  }
});

test('no connection is refused or reset while reloads follow each other', async () => {
  const port = await freePort();
  const file = writeConfig(helloConfig([port], 2));
  const ferry = await startFerry(undefined, { args: ['-c', file] });
  try {
    let reloading = true;
    let served = 0;
    const failures: string[] = [];
    const client = (async () => {
      while (reloading) {
        const r = await exchange(port, '', { end: false }).catch((e: Error) => ({ data: Buffer.alloc(0), error: e.message }));
        if (/hello from ferry/.test(String(r.data))) served++;
        else failures.push(r.error ?? 'no greeting');
      }
    })();
    for (let i = 0; i < 5; i++) await reload(ferry, file, helloConfig([port], 2));
    reloading = false;
    await client;
    assert.equal(failures, []);
    assert.ok(served > 0);
    assert.is(ferry.logs.filter((l) => l.msg === 'reload done').length, 5);
  } finally {
    await ferry.stop();
  }
});

test.run();
