import { Stream } from '../stream/stream';
import { registerMux } from './registry';

/**
 * Pass-through: the whole connection is one stream, bytes relayed untouched (TCP mode). It serves
 * connections without ALPN, and through selectMux's fallback any protocol a TLS client agreed on.
 */
registerMux({
  name: 'pt',
  mode: 'tcp',
  alpn: [''],
  attach(conn, ctx) {
    const stream = new Stream(conn, ctx);
    stream.start();
    return stream;
  },
  adopt(conn, ctx, envelope, server) {
    const stream = new Stream(conn, ctx, envelope);
    if (server === undefined || envelope.server === undefined) {
      // It had no server yet: connect now, to this generation's servers, with the bytes it brought.
      stream.start(envelope.toServer);
    } else {
      const known = ctx.backend.servers.find((s) => s.name === envelope.server);
      stream.adoptTunnel(server, envelope.server, known, envelope.toServer, envelope.toClient);
    }
    return stream;
  },
});
