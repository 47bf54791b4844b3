import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, startFerry, writeConfig, type FerryProcess } from './helpers/ferry';
import { freePort } from './helpers/net';
import { HELLO, oneFrontend } from './helpers/configs';
import { NotifyListener, type Notification } from './helpers/notify';

async function helloFile(global: object = {}): Promise<string> {
  return writeConfig(oneFrontend(await freePort(), HELLO, { global }));
}

/** A ferry on the configuration `file` that reports to `listener` as it would to systemd. */
function startNotifying(listener: NotifyListener, file: string, env: Record<string, string> = {}): Promise<FerryProcess> {
  return startFerry(undefined, { args: ['-c', file], env: { NOTIFY_SOCKET: listener.path, ...env } });
}

/** Runs `body` with a notify socket, which is closed only once the ferry it served has exited. */
async function withListener(body: (listener: NotifyListener) => Promise<void>): Promise<void> {
  const listener = new NotifyListener();
  try {
    await body(listener);
  } finally {
    listener.close();
  }
}

function keys(n: Notification): string {
  return Object.keys(n).sort().join(',');
}

test('READY with MAINPID and STATUS, RELOADING and READY around a reload, STOPPING on SIGTERM, in order', () =>
  withListener(async (listener) => {
    const ferry = await startNotifying(listener, await helloFile());
    try {
      const ready = await listener.state(1);
      assert.is(keys(ready), 'MAINPID,READY,STATUS');
      assert.is(ready.READY, '1');
      assert.is(Number(ready.MAINPID), ferry.pid);
      assert.match(ready.STATUS, /^serving: generation 1 /);
      // Workers never see the variables: only the master speaks to systemd.
      assert.is(ferry.workerPids.length, 1, 'the worker started');
      for (const pid of ferry.workerPids) assert.not.match(readFileSync(`/proc/${pid}/environ`, 'latin1'), /NOTIFY_SOCKET=/);

      const before = process.hrtime.bigint() / 1000n;
      const reload = await runCli(['reload', '-s', ferry.control]);
      const after = process.hrtime.bigint() / 1000n;
      assert.is(reload.code, 0, reload.stderr);
      const reloading = await listener.state(2);
      assert.is(keys(reloading), 'MONOTONIC_USEC,RELOADING,STATUS');
      assert.match(reloading.MONOTONIC_USEC, /^\d+$/);
      // The same system-wide clock as this process's CLOCK_MONOTONIC, read between the two.
      assert.ok(BigInt(reloading.MONOTONIC_USEC) >= before && BigInt(reloading.MONOTONIC_USEC) <= after, `${before} <= ${reloading.MONOTONIC_USEC} <= ${after}`);
      const reloaded = await listener.state(3);
      assert.is(reloaded.READY, '1');
      assert.match(reloaded.STATUS, /^reloaded: generation 2 serves/);

      assert.is((await ferry.stop()).code, 0);
      const stopping = await listener.state(4);
      assert.is(stopping.STOPPING, '1');
      assert.is(listener.states.length, 4, JSON.stringify(listener.states));
    } finally {
      await ferry.stop();
    }
  }),
);

test('a refused reload still ends with READY, its STATUS saying it was refused', () =>
  withListener(async (listener) => {
    const file = await helloFile();
    const ferry = await startNotifying(listener, file);
    try {
      await listener.state(1);
      writeFileSync(file, readFileSync(await helloFile({ groups: 0 })));
      assert.is((await runCli(['reload', '-s', ferry.control])).code, 1);
      assert.is((await listener.state(2)).RELOADING, '1');
      const after = await listener.state(3);
      assert.is(after.READY, '1');
      assert.match(after.STATUS, /^reload refused \(invalid configuration\); generation 1 goes on unchanged$/);
    } finally {
      await ferry.stop();
    }
  }),
);

test('WATCHDOG=1 arrives every half WATCHDOG_USEC, and stops with ferry', () =>
  withListener(async (listener) => {
    const ferry = await startNotifying(listener, await helloFile(), { WATCHDOG_USEC: '200000' });
    try {
      await listener.until((r) => r.filter((n) => n.WATCHDOG === '1').length >= 2, 'two watchdog pings');
      assert.not.match(readFileSync(`/proc/${ferry.workerPids[0]}/environ`, 'latin1'), /WATCHDOG_USEC=/);
      assert.is((await ferry.stop()).code, 0);
      const stopping = listener.received.findIndex((n) => n.STOPPING === '1');
      assert.ok(stopping >= 0);
      assert.is(listener.received.slice(stopping + 1).length, 0, 'no ping after STOPPING=1');
    } finally {
      await ferry.stop();
    }
  }),
);

test('a WATCHDOG_PID naming another process gets no pings, and says why', () =>
  withListener(async (listener) => {
    const ferry = await startNotifying(listener, await helloFile(), { WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' });
    try {
      await ferry.waitMsg('WATCHDOG_PID names another process: no watchdog pings');
      await listener.state(1);
      assert.is((await ferry.stop()).code, 0);
      await listener.state(2);
      assert.equal(listener.received.filter((n) => n.WATCHDOG !== undefined), []);
    } finally {
      await ferry.stop();
    }
  }),
);

test('an abstract NOTIFY_SOCKET is reported as unreachable at start, and ferry serves anyway', async () => {
  const ferry = await startFerry(oneFrontend(await freePort(), HELLO), { env: { NOTIFY_SOCKET: '@ferry-test-notify' } });
  try {
    const warning = await ferry.waitLog((l) => l.msg.startsWith('NOTIFY_SOCKET is an abstract socket'));
    assert.is(warning.level, 'warn');
  } finally {
    assert.is((await ferry.stop()).code, 0);
  }
});

test('a notify socket nobody listens on: each failed send is logged, and ferry runs and stops as usual', async () => {
  const ferry = await startFerry(oneFrontend(await freePort(), HELLO), { env: { NOTIFY_SOCKET: '/nonexistent/notify.sock' } });
  try {
    const failed = await ferry.waitLog((l) => l.msg === 'cannot notify systemd' && String(l.message).startsWith('READY=1'));
    assert.is(failed.level, 'error');
    assert.is((await runCli(['reload', '-s', ferry.control])).code, 0);
  } finally {
    assert.is((await ferry.stop()).code, 0);
  }
});

test.run();
