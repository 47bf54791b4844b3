// A backend fast enough that the proxy, not the backend, is what the request
// rate measures: raw sockets, no HTTP parser, one canned keep-alive response
// per request head. Request bodies are not supported (load tools send GETs).
// Usage: node backend.js PORT

import net from 'node:net';
import { tetherToParent } from './lib/tether';

const port = Number(process.argv[2]);
const BODY = 'ferry bench: a fixed fifty-byte keep-alive body.\n';
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${Buffer.byteLength(BODY)}\r\nConnection: keep-alive\r\n\r\n${BODY}`,
);
const HEAD_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/** Pipelined requests are answered in one write, in order. */
function responsesFor(count: number): Buffer {
  return count === 1 ? RESPONSE : Buffer.concat(new Array<Buffer>(count).fill(RESPONSE));
}

function serve(socket: net.Socket): void {
  let pending = EMPTY;
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    const data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let count = 0;
    let from = 0;
    for (let at = data.indexOf(HEAD_END); at !== -1; at = data.indexOf(HEAD_END, from)) {
      count += 1;
      from = at + HEAD_END.length;
    }
    // Copy the partial head so the large read buffer can be freed.
    pending = from === data.length ? EMPTY : Buffer.from(data.subarray(from));
    if (count > 0) socket.write(responsesFor(count));
  });
}

net.createServer(serve).listen(port, '127.0.0.1', 1024);
tetherToParent();
