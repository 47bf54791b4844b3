// The UDP baseline: the simplest Node relay that works like ferry's flows. One
// flow per client address, each with its own upstream socket connected to the
// backend (so the kernel filters replies to it); replies leave through the
// listening socket. Flows never expire: a bench run has few clients.
// Usage: node dgram-relay.js LISTEN_PORT BACKEND_PORT

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { tetherToParent } from './lib/tether';

const [listenPort, backendPort] = process.argv.slice(2, 4).map(Number);
const host = '127.0.0.1';
const front = createSocket('udp4');

interface Upstream {
  socket: Socket;
  /** Datagrams that arrived while the socket connects; undefined once connected. */
  pending: Buffer[] | undefined;
}

const flows = new Map<string, Upstream>();

function open(client: RemoteInfo): Upstream {
  const up: Upstream = { socket: createSocket('udp4'), pending: [] };
  up.socket.on('message', (reply) => front.send(reply, client.port, client.address));
  up.socket.on('error', () => undefined);
  up.socket.connect(backendPort!, host, () => {
    const held = up.pending ?? [];
    up.pending = undefined;
    for (const data of held) up.socket.send(data);
  });
  return up;
}

front.on('message', (data, client) => {
  const key = `${client.address}:${client.port}`;
  let up = flows.get(key);
  if (up === undefined) {
    up = open(client);
    flows.set(key, up);
  }
  if (up.pending === undefined) up.socket.send(data);
  else up.pending.push(data);
});
front.bind(listenPort, host);
tetherToParent();
