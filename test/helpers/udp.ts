import { createSocket, type Socket } from 'node:dgram';

export interface UdpEcho {
  port: number;
  /** The source port of every datagram received, in order. */
  sources: number[];
  close(): void;
}

/** Answers each datagram with "<source port>:<payload>", and remembers the source ports. */
export function udpEcho(family: 4 | 6 = 4): Promise<UdpEcho> {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  const sources: number[] = [];
  socket.on('message', (data, from) => {
    sources.push(from.port);
    socket.send(`${from.port}:${data}`, from.port, from.address);
  });
  return new Promise((resolve) =>
    socket.bind(0, family === 6 ? '::1' : '127.0.0.1', () => resolve({ port: socket.address().port, sources, close: () => socket.close() })),
  );
}

export interface UdpClient {
  /** Sends one datagram and waits for one reply; rejects after `timeoutMs` without one. */
  ask(text: string, timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function udpClient(port: number, host = '127.0.0.1'): Promise<UdpClient> {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return {
    ask: (text, timeoutMs = 2000) =>
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
      }),
    close: () => socket.close(),
  };
}
