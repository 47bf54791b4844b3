// UDP test helpers: an echo server that records who sent, clients that wait for replies, a ferry with
// one UDP frontend ("dns") and its counters from `show stat`.
import { createSocket, type Socket } from 'node:dgram';
import * as assert from 'uvu/assert';
import { sendCommand } from '../../src/control/client';
import type { BackendSnapshot, FrontendSnapshot } from '../../src/proto/snapshot';
import { startFerry, type FerryProcess } from './ferry';

export interface UdpEcho {
  port: number;
  /** The source port of every datagram received, in order. */
  sources: number[];
  /** The source ports each client came from, by the client's tag: its payload up to the first "/". */
  byClient: Map<string, Set<number>>;
  close(): void;
}

/** Answers each datagram with "<source port>:<payload>" (or not at all when `silent`), and remembers the source ports. */
export function udpEcho(family: 4 | 6 = 4, silent = false): Promise<UdpEcho> {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  const sources: number[] = [];
  const byClient = new Map<string, Set<number>>();
  socket.on('message', (data, from) => {
    sources.push(from.port);
    const tag = String(data).split('/')[0];
    byClient.set(tag, (byClient.get(tag) ?? new Set()).add(from.port));
    if (!silent) socket.send(`${from.port}:${data}`, from.port, from.address);
  });
  return new Promise((resolve) =>
    socket.bind(0, family === 6 ? '::1' : '127.0.0.1', () => resolve({ port: socket.address().port, sources, byClient, close: () => socket.close() })),
  );
}

export interface Client {
  /** This client's own port. */
  port: number;
  /** Sends one datagram and waits for one reply; rejects after `timeoutMs` without one. */
  ask(payload: string | Buffer, timeoutMs?: number): Promise<string>;
  /** Asks again (a fresh text each time) until the reply to the last ask comes; rejects after `timeoutMs`. */
  askUntilAnswered(text: string, timeoutMs: number): Promise<string>;
  /** Sends one datagram without waiting. */
  send(payload: string | Buffer): void;
  close(): void;
}

export async function udpClient(port: number, host = '127.0.0.1'): Promise<Client> {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const ask = (payload: string | Buffer, timeoutMs = 2000): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off('message', onReply);
        reject(new Error(`no reply to ${String(payload)}`));
      }, timeoutMs);
      const onReply = (data: Buffer): void => {
        clearTimeout(timer);
        resolve(data.toString('latin1'));
      };
      socket.once('message', onReply);
      socket.send(payload, port, host);
    });
  return {
    port: socket.address().port,
    ask,
    askUntilAnswered: async (text, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (let attempt = 0; ; attempt++) {
        const sent = `${text}.${attempt}`;
        // A late reply to an earlier attempt does not count.
        const reply = await ask(sent, 200).catch(() => '');
        if (reply.endsWith(`:${sent}`)) return reply;
        if (Date.now() > deadline) throw new Error(`no reply to ${text} in ${timeoutMs} ms`);
      }
    },
    send: (payload) => socket.send(payload, port, host),
    close: () => socket.close(),
  };
}

export function udpConfig(port: number, backend: object, frontend: object = {}, global: object = {}): object {
  return {
    global: { groups: 1, threads: 1, ...global },
    frontends: { dns: { mode: 'udp', bind: [`udp@127.0.0.1:${port}`], backend: 'app', ...frontend } },
    backends: { app: backend },
  };
}

export async function statData(ferry: FerryProcess): Promise<{ backends: BackendSnapshot[] }> {
  const reply = await sendCommand(ferry.control, 'show stat');
  return reply.data as { backends: BackendSnapshot[] };
}

export async function udpStat(ferry: FerryProcess): Promise<Required<FrontendSnapshot>> {
  const reply = await sendCommand(ferry.control, 'show stat');
  assert.ok(reply.ok, reply.lines.join('\n'));
  assert.ok(reply.lines.some((l) => l.startsWith('udp frontend')), 'show stat has the UDP table');
  const frontends = (reply.data as { frontends: FrontendSnapshot[] }).frontends;
  return frontends.find((f) => f.name === 'dns') as Required<FrontendSnapshot>;
}

/** Asks `show stat` again until the UDP counters satisfy `ok`; fails after `timeoutMs`. */
export async function statUntil(ferry: FerryProcess, ok: (d: Required<FrontendSnapshot>['datagrams']) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = (await udpStat(ferry)).datagrams;
    if (ok(d)) return;
    if (Date.now() > deadline) assert.unreachable(`the UDP counters never reached the expected state: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function withFerry(config: object, run: (ferry: FerryProcess) => Promise<void>): Promise<void> {
  const ferry = await startFerry(config);
  try {
    await run(ferry);
  } finally {
    assert.equal(await ferry.stop(), { code: 0, signal: null }, 'stop ends ferry cleanly');
  }
}
