import { accessSync, constants } from 'node:fs';
import { unpack } from 'msgpackr';
import { SeqpacketSocket } from 'node-unix-socket';
import { encodeRequest, replyCount, type Reply } from '../proto/control';
import { destroyLater } from './seqpacket';

/** Sends one command to the master socket at `path` and resolves with its reply. */
export async function sendCommand(path: string, command: string): Promise<Reply> {
  const replies = await sendCommands(path, command);
  if (replies.length === 1) return replies[0];
  return { ok: replies.every((r) => r.ok), lines: replies.flatMap((r) => r.lines), data: replies.map((r) => r.data) };
}

/**
 * Sends `line`, one command or several separated by ";" or new lines, and resolves with a reply per
 * command, in order. After a request of several commands the client half-closes: the master closes
 * once it has answered them all.
 */
export function sendCommands(path: string, line: string): Promise<Reply[]> {
  const expected = replyCount(line);
  return new Promise((resolve, reject) => {
    const socket = new SeqpacketSocket();
    const replies: Reply[] = [];
    const done = (): void => destroyLater(socket);
    const unreachable = (): void => {
      done();
      reject(new Error(`cannot reach the ferry master at ${path}: ${whyUnreachable(path)}`));
    };
    socket.on('error', unreachable);
    // After the last reply, 'end' finds the promise settled already and changes nothing.
    socket.on('end', () => {
      done();
      const got = replies.length === 0 ? 'without a reply' : `after ${replies.length} of ${expected} replies`;
      reject(new Error(`the ferry master at ${path} closed the connection ${got} (is it stopping?)`));
    });
    socket.on('data', (packet: Buffer) => {
      try {
        replies.push(unpack(packet) as Reply);
      } catch (err) {
        done();
        return reject(new Error(`unreadable reply from ${path}: ${(err as Error).message}`));
      }
      if (replies.length < expected) return;
      done();
      resolve(replies);
    });
    try {
      socket.connect(path, () => {
        socket.write(encodeRequest(line));
        // A master that does not know several commands a request closes at once rather than leave the client waiting.
        if (expected > 1) socket.end();
      });
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
