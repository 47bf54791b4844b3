// Readiness by connecting: the only signal haproxy and our own helpers give.
// Polls with real connects because a bound-but-not-listening port would fail
// a connect anyway, which is exactly what we must wait out.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitError, type Proc } from './proc';

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, proc: Proc, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited()) throw exitError(proc, `waiting for port ${port}`, await proc.exited);
    if (await tryConnect(port)) return;
    await sleep(50);
  }
  throw new Error(`${proc.name}: port ${port} not accepting within ${timeoutMs} ms\n--- last output ---\n${proc.tail()}`);
}
