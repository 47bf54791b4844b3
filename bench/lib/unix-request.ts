// One command to a line-oriented admin socket (haproxy's master CLI): write
// it and half-close, then read until the other side closes. haproxy 2.6 keeps
// the connection open after answering unless it sees our end of input, and
// while its master re-executes itself on reload the socket refuses
// connections for a moment, so a refused or missing socket is retried until
// the deadline.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const RETRY_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EAGAIN']);

function once(path: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer to "${command}" on ${path} within ${timeoutMs} ms`)));
    socket.once('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export async function unixRequest(path: string, command: string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await once(path, command, timeoutMs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!RETRY_CODES.has(code) || Date.now() >= deadline) throw err;
      await sleep(50);
    }
  }
}
