// The baseline: the simplest correct Node TCP proxy. ferry pays for features
// (workers, reloads, balancing); this shows what that costs on the data path.
// Usage: node pipe-proxy.js LISTEN_PORT BACKEND_PORT [nagle]
// By default it sets TCP_NODELAY on both legs, as ferry and HAProxy do (a proxy that leaves Nagle on
// stalls a response written in two pieces for a delayed ACK, ~40 ms); `nagle` keeps node's default.

import net from 'node:net';
import { tetherToParent } from './lib/tether';

const [listenPort, backendPort] = process.argv.slice(2, 4).map(Number);
const noDelay = process.argv[4] !== 'nagle';
const host = '127.0.0.1';

// Half-open allowed on both legs so a FIN travels through like in a real proxy.
const server = net.createServer({ allowHalfOpen: true, noDelay }, (client) => {
  const upstream = net.connect({ host, port: backendPort!, allowHalfOpen: true, noDelay });
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
