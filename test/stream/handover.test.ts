// A TCP Stream handed over in-process, the way a reload moves it: departure from its sockets, the
// sockets passed as dups (helpers/dup.ts, as the master relays them), the old copies closed, and
// the stream adopted by the pass-through mux of the next generation with the bytes it had in hand.

import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backend } from '../../src/backend/backend';
import { Connection } from '../../src/conn/connection';
import { socketFrom } from '../../src/conn/handles';
import { Frontend } from '../../src/listener/frontend';
import { selectMux } from '../../src/mux';
import { Stream } from '../../src/stream/stream';
import type { StreamContext } from '../../src/stream/session';
import { dup } from '../helpers/dup';
import { next, silent, until, webAndApp } from '../helpers/layers';
import { listen } from '../helpers/net';

/** More than the kernel buffers between client, stream and server hold: the stream backs up. */
const SIZE = 48 << 20;

/** One generation's view of frontend "web" and backend "app" (server "s1" on `port`). */
function generation(n: number, port: number): StreamContext {
  const { frontend, backend } = webAndApp({ servers: { s1: { address: `127.0.0.1:${port}` } } });
  return {
    frontend: new Frontend(frontend, 100),
    backend: new Backend(backend, 1),
    log: silent,
    access: undefined,
    service: { group: 0, thread: 0, generation: n },
    stopping: false,
    began: () => {},
    replaced: () => {},
    ended: () => {},
  };
}

test('a stream departure while the server reads nothing and the client has bytes it could not send yet: after adoption the server gets every byte, in order', async () => {
  const data = randomBytes(SIZE);
  const received = createHash('sha256');
  let bytes = 0;
  let upstream: Socket | undefined;
  // The server reads nothing until the hand-over: the stream backs up and stops reading the client.
  const server = createServer({ allowHalfOpen: true }, (s) => {
    upstream = s;
    s.on('data', (chunk: Buffer) => {
      received.update(chunk);
      bytes += chunk.length;
    });
    s.pause();
  });
  const serverPort = await listen(server);
  const old = generation(1, serverPort);
  let stream: Stream | undefined;
  const front = createServer({ allowHalfOpen: true }, (socket) => {
    stream = new Stream(new Connection(socket, 'raw'), old);
    stream.start();
  });
  const client = connect(await listen(front), '127.0.0.1');
  try {
    await next(client, 'connect');
    client.end(data);
    // The server's buffer is full and it reads no more: what follows backs up in the kernel's buffers,
    // in a write the stream has in flight to the server and in the client's queue.
    await until(() => upstream !== undefined && stream !== undefined && upstream.readableLength >= upstream.readableHighWaterMark, 'the server to stop reading');

    const leaving = stream!.handOver(1);
    // The server reads again, so that what the stream wrote to it can flush.
    upstream!.resume();
    const departure = await leaving;
    assert.ok(departure, 'the stream can move');

    const [clientDup, serverDup] = [await dup(departure.client), await dup(departure.server!)];
    stream!.handedOver();
    const ended = next(upstream!, 'end');
    selectMux('tcp').adopt(new Connection(socketFrom(clientDup), 'raw'), generation(2, serverPort), departure.envelope, socketFrom(serverDup));
    await ended;
    assert.is(bytes, SIZE, 'no byte lost');
    assert.is(received.digest('hex'), createHash('sha256').update(data).digest('hex'), 'every byte in order');
  } finally {
    client.destroy();
    upstream?.destroy();
    server.close();
    front.close();
  }
});

test.run();
