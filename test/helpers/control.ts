import { sendCommand } from '../../src/control/client';
import { SeqpacketSocket } from 'node-unix-socket';
import { destroyLater } from '../../src/control/seqpacket';

/**
 * One raw packet to a master socket, and the raw packet it answers with (`undefined` when the master
 * closes the connection instead).
 */
export function rawRequest(path: string, packet: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = new SeqpacketSocket();
    socket.on('error', reject);
    socket.on('end', () => resolve(undefined));
    socket.on('data', (reply: Buffer) => {
      destroyLater(socket);
      resolve(reply);
    });
    socket.connect(path, () => socket.write(packet));
  });
}

/**
 * One raw packet to a master socket, then a half-close (the client says it is done, as `echo cmd |
 * socat` does), and every packet the master answers with until it closes the connection.
 */
export function rawRequests(path: string, packet: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = new SeqpacketSocket();
    const replies: Buffer[] = [];
    socket.on('error', reject);
    socket.on('end', () => {
      destroyLater(socket);
      resolve(replies);
    });
    socket.on('data', (reply: Buffer) => replies.push(reply));
    socket.connect(path, () => {
      socket.write(packet);
      socket.end();
    });
  });
}

/** What the first check of the first server of the first backend found, asked of `show stat` until one ran (10 s at most). */
export async function firstCheckResult(control: string): Promise<{ ok?: boolean; result?: string }> {
  type Stat = { backends: { servers: { check: { last?: { ok: boolean; result: string } } | null }[] }[] };
  let last: { ok: boolean; result: string } | undefined;
  for (const deadline = Date.now() + 10_000; last === undefined && Date.now() < deadline; ) {
    last = ((await sendCommand(control, 'show stat')).data as Stat).backends[0].servers[0].check?.last;
    if (last === undefined) await new Promise((r) => setTimeout(r, 20));
  }
  return { ok: last?.ok, result: last?.result };
}
