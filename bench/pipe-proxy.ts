// The baseline: the simplest correct Node TCP proxy. ferry pays for features
// (workers, reloads, balancing); this shows what that costs on the data path.
// Usage: node pipe-proxy.js LISTEN_PORT BACKEND_PORT

import net from 'node:net';
import { tetherToParent } from './lib/tether';

const [listenPort, backendPort] = process.argv.slice(2).map(Number);
const host = '127.0.0.1';

// Half-open allowed on both legs so a FIN travels through like in a real proxy.
const server = net.createServer({ allowHalfOpen: true }, (client) => {
  const upstream = net.connect({ host, port: backendPort!, allowHalfOpen: true });
  const dropBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', dropBoth);
  upstream.on('error', dropBoth);
  client.pipe(upstream);
  upstream.pipe(client);
});

server.listen(listenPort, host);
tetherToParent();
