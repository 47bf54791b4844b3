// Readiness of a UDP relay: nothing accepts, so a probe datagram must make the
// round trip through the relay to the echo backend and back.

import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitError, type Proc } from './proc';

const PROBE_MS = 100;

function probe(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), PROBE_MS);
    socket.once('message', () => done(true));
    socket.once('error', () => done(false));
    socket.send('probe', port, '127.0.0.1');
  });
}

export async function waitForUdp(port: number, proc: Proc, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.hasExited()) throw exitError(proc, `waiting for a reply on UDP port ${port}`, await proc.exited);
    if (await probe(port)) return;
    await sleep(50);
  }
  throw new Error(`${proc.name}: no reply through UDP port ${port} within ${timeoutMs} ms\n--- last output ---\n${proc.tail()}`);
}
