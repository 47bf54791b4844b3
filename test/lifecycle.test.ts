import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { alive, startFerry } from './helpers/ferry';
import { freePort, openClient } from './helpers/net';
import { ECHO, oneFrontend } from './helpers/configs';

function echoConfig(port: number, hardStopAfter: string): object {
  return oneFrontend(port, ECHO, { global: { groups: 2, threads: 1, hardStopAfter } });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      // With nothing listening, Linux may pick the port itself as the source port and connect the
      // socket to itself: that too means refused.
      const self = s.localPort === port;
      s.destroy();
      resolve(self);
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

test('SIGTERM stops accepting, lets open sessions finish, then exits 0 with no process left', async () => {
  const port = await freePort();
  const ferry = await startFerry(echoConfig(port, '30s'));
  const workers = ferry.workerPids;
  const c = await openClient(port);
  ferry.proc.kill('SIGTERM');
  await ferry.waitMsg('stopping: no new connections, waiting for sessions to end');
  await ferry.until(() => ferry.logs.filter((l) => l.msg === 'thread stopping: no longer accepting').length === 2, 5000, 'both workers to stop accepting');
  assert.ok(await refused(port), 'new connections are refused');
  // The open session still works.
  c.socket.write('still here');
  await c.waitFor('still here');
  assert.ok(alive(ferry.pid));
  c.socket.end();
  const { code } = await ferry.exited;
  assert.is(code, 0);
  assert.is(workers.length, 2, 'both workers had started');
  assert.equal(workers.filter(alive), []);
  const line = ferry.logs.find((l) => l.msg === 'session');
  assert.is(line?.termination, '--');
});

test('sessions still open at hardStopAfter are closed and the master exits 0', async () => {
  const port = await freePort();
  const ferry = await startFerry(echoConfig(port, '300ms'));
  const workers = ferry.workerPids;
  const c = await openClient(port);
  const started = Date.now();
  const { code } = await ferry.stop('SIGTERM');
  assert.is(code, 0);
  assert.ok(Date.now() - started >= 250, 'waited for hardStopAfter');
  c.socket.end();
  await c.closed;
  assert.is(ferry.logs.find((l) => l.msg === 'session')?.termination, 'KD');
  assert.is(workers.length, 2, 'both workers had started');
  assert.equal(workers.filter(alive), []);
});

test('a second SIGTERM closes the remaining sessions at once', async () => {
  const port = await freePort();
  const ferry = await startFerry(echoConfig(port, '60s'));
  const c = await openClient(port);
  ferry.proc.kill('SIGTERM');
  await ferry.until(() => ferry.logs.filter((l) => l.msg === 'thread stopping: no longer accepting').length === 2, 5000, 'both workers to stop accepting');
  ferry.proc.kill('SIGTERM');
  await c.closed;
  const { code } = await ferry.exited;
  assert.is(code, 0);
  assert.is(ferry.logs.find((l) => l.msg === 'session')?.termination, 'KD');
});

test('SIGINT stops an idle ferry at once', async () => {
  const port = await freePort();
  const ferry = await startFerry(echoConfig(port, '30s'));
  const workers = ferry.workerPids;
  const started = Date.now();
  const { code } = await ferry.stop('SIGINT');
  assert.is(code, 0);
  assert.ok(Date.now() - started < 5000);
  assert.is(workers.length, 2, 'both workers had started');
  assert.equal(workers.filter(alive), []);
});

test.run();
