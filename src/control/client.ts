import { accessSync, constants } from 'node:fs';
import { unpack } from 'msgpackr';
import { SeqpacketSocket } from 'node-unix-socket';
import { encodeRequest, type Reply } from '../proto/control';
import { destroyLater } from './seqpacket';

/** Sends one command to the master socket at `path` and resolves with its reply. */
export function sendCommand(path: string, command: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = new SeqpacketSocket();
    const done = (): void => destroyLater(socket);
    const unreachable = (): void => {
      done();
      reject(new Error(`cannot reach the ferry master at ${path}: ${whyUnreachable(path)}`));
    };
    socket.on('error', unreachable);
    // After a reply, 'end' finds the promise settled already and changes nothing.
    socket.on('end', () => {
      done();
      reject(new Error(`the ferry master at ${path} closed the connection without a reply (is it stopping?)`));
    });
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
    } catch {
      // A connect that fails throws at once rather than emitting 'error'.
      unreachable();
    }
  });
}

/**
 * node-unix-socket words every failed connect as "No such file or directory", whatever the cause;
 * the file system tells what it was.
 */
function whyUnreachable(path: string): string {
  const hint = '(is ferry running? pass -s with its global.masterSocket)';
  try {
    accessSync(path, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return 'permission denied (global.masterSocketAccess sets who may connect; by default only the socket\'s owner)';
    return `${code === 'ENOENT' ? 'no such socket' : (err as Error).message} ${hint}`;
  }
  return `nobody accepts connections there ${hint}`;
}
