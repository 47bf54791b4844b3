import { unpack } from 'msgpackr';
import { SeqpacketSocket } from 'node-unix-socket';
import { encodeRequest, type Reply } from './control-protocol';
import { destroyLater } from './seqpacket';

/** Sends one command to the master socket at `path` and resolves with its reply. */
export function sendCommand(path: string, command: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = new SeqpacketSocket();
    const done = (): void => destroyLater(socket);
    const unreachable = (err: Error): void => {
      done();
      reject(new Error(`cannot reach the ferry master at ${path}: ${err.message} (is ferry running? pass -s with its global.masterSocket)`));
    };
    socket.on('error', unreachable);
    socket.on('data', (packet: Buffer) => {
      done();
      try {
        resolve(unpack(packet) as Reply);
      } catch (err) {
        reject(new Error(`unreadable reply from ${path}: ${(err as Error).message}`));
      }
    });
    try {
      socket.connect(path, () => socket.write(encodeRequest(command)));
    } catch (err) {
      // A missing path fails at once rather than through 'error'.
      unreachable(err as Error);
    }
  });
}
