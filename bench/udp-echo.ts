// UDP backend: sends every datagram back to where it came from, unchanged.
// Usage: node udp-echo.js PORT

import { createSocket } from 'node:dgram';
import { tetherToParent } from './lib/tether';

const port = Number(process.argv[2]);
const socket = createSocket('udp4');
socket.on('message', (data, from) => socket.send(data, from.port, from.address));
socket.bind(port, '127.0.0.1');
tetherToParent();
