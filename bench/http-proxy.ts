// node-http-proxy (the `http-proxy` package) as a plain reverse proxy: the
// Node HTTP proxy most Node users would reach for, the baseline of the http
// floor. node:http on both sides, a keep-alive agent to the server (without
// an agent http-proxy sends `Connection: close` upstream), no X-Forwarded-*.
// Usage: node http-proxy.js LISTEN_PORT BACKEND_PORT

import http from 'node:http';
import httpProxy from 'http-proxy';
import { tetherToParent } from './lib/tether';

const [listenPort, backendPort] = process.argv.slice(2, 4).map(Number);
const host = '127.0.0.1';
const KEEP_ALIVE_MS = 5 * 60 * 1000;

const proxy = httpProxy.createProxyServer({
  target: `http://${host}:${backendPort!}`,
  // TCP_NODELAY upstream as well, like every other contender (node:http servers set it already).
  agent: new http.Agent({ keepAlive: true, noDelay: true }),
});
proxy.on('error', (_err, _req, res) => {
  // For web requests `res` is the client's ServerResponse; a 502 lets the load generator count the failure.
  if (res instanceof http.ServerResponse && !res.headersSent) res.writeHead(502).end();
  else res.destroy();
});

const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.listen(listenPort, host);
tetherToParent();
