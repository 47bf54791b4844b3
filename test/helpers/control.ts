import { SeqpacketSocket } from 'node-unix-socket';
import { destroyLater } from '../../src/control/seqpacket';

/**
 * One raw packet to a master socket, and the raw packet it answers with (`undefined` when the master
 * closes the connection instead).
 */
export function rawRequest(path: string, packet: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = new SeqpacketSocket();
    socket.on('error', reject);
    socket.on('end', () => resolve(undefined));
    socket.on('data', (reply: Buffer) => {
      destroyLater(socket);
      resolve(reply);
    });
    socket.connect(path, () => socket.write(packet));
  });
}
