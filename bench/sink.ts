// Bulk backend: the client first sends an 8-byte big-endian length, then that
// many bytes; the sink counts them and answers with the count. Framing by
// length instead of by FIN keeps the test independent of half-close support.
// Usage: node sink.js PORT

import net from 'node:net';
import { tetherToParent } from './lib/tether';

const port = Number(process.argv[2]);
const HEADER_BYTES = 8;

function serve(socket: net.Socket): void {
  let header = Buffer.alloc(0);
  let expected = -1;
  let received = 0;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    let body = chunk;
    if (expected < 0) {
      header = Buffer.concat([header, chunk]);
      if (header.length < HEADER_BYTES) return;
      expected = Number(header.readBigUInt64BE(0));
      body = header.subarray(HEADER_BYTES);
    }
    received += body.length;
    if (received >= expected && expected >= 0) {
      socket.end(`${received}\n`);
      expected = Number.POSITIVE_INFINITY;
    }
  });
}

net.createServer(serve).listen(port, '127.0.0.1', 1024);
tetherToParent();
