// Asking the kernel for port 0 and releasing it leaves a small race, but it is
// the only way to hand a port to programs (ferry, haproxy) that must be told
// their port up front instead of reporting one back.

import dgram from 'node:dgram';
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the ephemeral port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** The same for UDP: a free TCP port number says nothing about UDP. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
