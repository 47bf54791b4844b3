// Keep-alive HTTP clients that each send one request, read its answer and then hold their
// connection idle: sessions for a reload to hand over with no load around them. ask() sends one
// more request on every connection and counts the answers, to show the sessions survived.

import net from 'node:net';

/** The end of bench/backend.ts's body: one per response. */
const BODY_END = 'keep-alive body.\n';

function request(port: number): string {
  return `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: ferry-bench\r\n\r\n`;
}

function answered(socket: net.Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(ok);
    };
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (text.includes(BODY_END)) done(true);
    };
    const onClose = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

export class IdleClients {
  private constructor(private readonly port: number, private readonly sockets: net.Socket[]) {}

  static async open(port: number, count: number): Promise<IdleClients> {
    const sockets = await Promise.all(Array.from({ length: count }, () => new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(socket));
      socket.once('error', reject);
    })));
    for (const socket of sockets) socket.on('error', () => socket.destroy());
    const clients = new IdleClients(port, sockets);
    const ok = await clients.ask();
    if (ok < count) throw new Error(`idle clients: ${count - ok} of ${count} got no answer`);
    return clients;
  }

  /** One request on each connection; resolves to the number answered. */
  async ask(timeoutMs = 5000): Promise<number> {
    const answers = this.sockets.map((socket) => {
      const got = answered(socket, timeoutMs);
      socket.write(request(this.port));
      return got;
    });
    return (await Promise.all(answers)).filter(Boolean).length;
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
