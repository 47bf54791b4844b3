// UDP request/reply load from the bench process: `flows` client sockets, each
// a flow of its own, each sending one small datagram and waiting for its echo
// before the next (closed loop). A datagram without an echo within LOSS_MS is
// counted lost and the flow goes on; a sequence number in each datagram keeps
// a late echo from counting for the next one.

import { createSocket, type Socket } from 'node:dgram';

const PAYLOAD_BYTES = 32;
const LOSS_MS = 200;

export interface UdpLoadResult {
  readonly replies: number;
  readonly lost: number;
  readonly seconds: number;
}

interface Budget {
  readonly until: number;
  /** Datagrams left to send over all flows. */
  left: number;
  replies: number;
  lost: number;
}

function runFlow(socket: Socket, budget: Budget): Promise<void> {
  const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  let seq = 0;
  return new Promise((resolve) => {
    const next = (): void => {
      if (budget.left <= 0 || performance.now() >= budget.until) {
        clearTimeout(timer);
        resolve();
        return;
      }
      budget.left -= 1;
      seq += 1;
      payload.writeUInt32BE(seq, 0);
      timer.refresh();
      socket.send(payload);
    };
    const timer = setTimeout(() => {
      budget.lost += 1;
      next();
    }, LOSS_MS);
    socket.on('message', (reply) => {
      if (reply.length < 4 || reply.readUInt32BE(0) !== seq) return;
      budget.replies += 1;
      next();
    });
    next();
  });
}

function connected(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => resolve(socket));
  });
}

/** Runs until `seconds` have passed or `maxDatagrams` were sent, whichever comes first. */
export async function udpLoad(port: number, flows: number, seconds: number, maxDatagrams: number): Promise<UdpLoadResult> {
  const sockets = await Promise.all(Array.from({ length: flows }, () => connected(port)));
  const start = performance.now();
  const budget: Budget = { until: start + seconds * 1000, left: maxDatagrams, replies: 0, lost: 0 };
  try {
    await Promise.all(sockets.map((socket) => runFlow(socket, budget)));
  } finally {
    for (const socket of sockets) socket.close();
  }
  return { replies: budget.replies, lost: budget.lost, seconds: (performance.now() - start) / 1000 };
}
