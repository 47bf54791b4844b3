// Both ends of many idle tunnels, in a process of its own: the clients that
// connect through the proxy and the backend that holds what arrives. Keeping
// them out of the proxy's process is what lets 5,000 tunnels (10,000 sockets
// on each side of the proxy) fit under a 20,000 open-file limit. With `http`,
// each client sends one GET and then sits idle on its keep-alive connection,
// and the backend answers each request head.
// Usage: node holder.js BACKEND_PORT [http], then IPC commands:
//   { cmd: 'open', port, count, batch } -> { ok, open, ms }
//   { cmd: 'close' }                    -> { ok, lingering }

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { tetherToParent } from './lib/tether';

const backendPort = Number(process.argv[2]);
const http = process.argv[3] === 'http';
const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n';
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
const HOST = '127.0.0.1';
const CONNECT_TIMEOUT_MS = 15_000;
const DRAIN_TIMEOUT_MS = 5_000;

const held = new Set<net.Socket>();
const clients = new Set<net.Socket>();

function holdOne(socket: net.Socket): void {
  held.add(socket);
  // A GET's head arrives in one read on loopback: one response per head in the chunk.
  socket.on('data', (chunk: Buffer) => socket.write(http ? Buffer.concat(Array<Buffer>(heads(chunk)).fill(RESPONSE)) : chunk));
  socket.on('error', () => socket.destroy());
  socket.on('close', () => held.delete(socket));
}

function heads(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf('\r\n\r\n'); at !== -1; at = chunk.indexOf('\r\n\r\n', at + 4)) n++;
  return n;
}

/** A tunnel counts as open only once a byte has made the round trip (with `http`, a request and its response). */
function openOne(proxyPort: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, HOST);
    clients.add(socket);
    socket.on('close', () => {
      clients.delete(socket);
      reject(new Error('tunnel closed before its echo came back'));
    });
    socket.on('error', (err) => {
      socket.destroy();
      reject(err);
    });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('tunnel timed out')));
    socket.once('connect', () => socket.write(http ? REQUEST : 'x'));
    socket.once('data', () => {
      socket.setTimeout(0);
      resolve();
    });
  });
}

/** Batches keep the proxy's accept backlog from overflowing. */
async function openMany(proxyPort: number, count: number, batch: number): Promise<void> {
  for (let opened = 0; opened < count; opened += batch) {
    const size = Math.min(batch, count - opened);
    await Promise.all(Array.from({ length: size }, () => openOne(proxyPort)));
  }
}

/** Closing only the client side checks that the proxy tears the tunnel down. */
async function closeAll(): Promise<number> {
  for (const socket of clients) socket.destroy();
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (held.size > 0 && Date.now() < deadline) await sleep(20);
  const lingering = held.size;
  for (const socket of held) socket.destroy();
  return lingering;
}

interface Command {
  cmd: 'open' | 'close';
  port?: number;
  count?: number;
  batch?: number;
}

async function handle(command: Command): Promise<object> {
  if (command.cmd === 'open') {
    const started = Date.now();
    await openMany(command.port!, command.count!, command.batch!);
    return { ok: true, open: clients.size, held: held.size, ms: Date.now() - started };
  }
  return { ok: true, lingering: await closeAll() };
}

process.on('message', (command: Command) => {
  handle(command).then(
    (reply) => process.send?.(reply),
    (err: unknown) => process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

net.createServer(holdOne).listen(backendPort, HOST, 1024);
tetherToParent();
