import { createSocket, type Socket } from 'node:dgram';

export interface UdpEcho {
  port: number;
  /** The source port of every datagram received, in order. */
  sources: number[];
  /** The source ports each client came from, by the client's tag: its payload up to the first "/". */
  byClient: Map<string, Set<number>>;
  close(): void;
}

/** Answers each datagram with "<source port>:<payload>", and remembers the source ports. */
export function udpEcho(family: 4 | 6 = 4): Promise<UdpEcho> {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  const sources: number[] = [];
  const byClient = new Map<string, Set<number>>();
  socket.on('message', (data, from) => {
    sources.push(from.port);
    const tag = String(data).split('/')[0];
    byClient.set(tag, (byClient.get(tag) ?? new Set()).add(from.port));
    socket.send(`${from.port}:${data}`, from.port, from.address);
  });
  return new Promise((resolve) =>
    socket.bind(0, family === 6 ? '::1' : '127.0.0.1', () => resolve({ port: socket.address().port, sources, byClient, close: () => socket.close() })),
  );
}

export interface UdpClient {
  /** Sends one datagram and waits for one reply; rejects after `timeoutMs` without one. */
  ask(text: string, timeoutMs?: number): Promise<string>;
  /** Asks again (a fresh text each time) until the reply to the last ask comes; rejects after `timeoutMs`. */
  askUntilAnswered(text: string, timeoutMs: number): Promise<string>;
  close(): void;
}

export async function udpClient(port: number, host = '127.0.0.1'): Promise<UdpClient> {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const ask = (text: string, timeoutMs = 2000): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.off('message', onReply);
        reject(new Error(`no reply to ${text}`));
      }, timeoutMs);
      const onReply = (data: Buffer): void => {
        clearTimeout(timer);
        resolve(String(data));
      };
      socket.once('message', onReply);
      socket.send(text, port, host);
    });
  return {
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
    close: () => socket.close(),
  };
}
