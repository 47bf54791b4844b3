import { Stream } from '../stream';
import { registerMux } from './registry';

/** Pass-through: the whole connection is one stream, bytes relayed untouched (TCP mode). */
registerMux({
  name: 'pt',
  mode: 'tcp',
  alpn: [''],
  attach(conn, ctx) {
    const stream = new Stream(conn, ctx);
    stream.start();
    return stream;
  },
});
