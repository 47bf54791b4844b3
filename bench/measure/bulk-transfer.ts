// One bulk transfer through a proxy to the sink: length header, payload, then
// wait for the sink's byte count. Timing spans connect to acknowledgement, so
// bytes still buffered inside the proxy are not counted as delivered.

import net from 'node:net';

const CHUNK = Buffer.alloc(256 * 1024, 'ferry-bench ');
const TIMEOUT_MS = 120_000;

function header(totalBytes: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(totalBytes));
  return buf;
}

/** Respects backpressure so the client never buffers the whole payload. */
function pump(socket: net.Socket, totalBytes: number): void {
  let sent = 0;
  const more = (): void => {
    while (sent < totalBytes) {
      const size = Math.min(CHUNK.length, totalBytes - sent);
      sent += size;
      if (!socket.write(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size))) {
        socket.once('drain', more);
        return;
      }
    }
  };
  socket.write(header(totalBytes));
  more();
}

/** Resolves with the seconds taken to deliver totalBytes through the port. */
export function transfer(port: number, totalBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(TIMEOUT_MS, () => fail(new Error(`bulk transfer stalled for ${TIMEOUT_MS} ms`)));
    socket.on('error', fail);
    socket.once('connect', () => pump(socket, totalBytes));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\n')) return;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      socket.destroy();
      const counted = Number(reply.trim());
      if (counted !== totalBytes) reject(new Error(`sink counted ${counted} bytes, sent ${totalBytes}`));
      else resolve(seconds);
    });
    socket.on('close', () => reject(new Error('proxy closed the bulk connection before the ack')));
  });
}
