import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { SeqpacketServer, SeqpacketSocket } from 'node-unix-socket';
import type { SocketAccess } from '../src/config/types';
import type { Logger } from '../src/log/log';
import { applySocketAccess } from './binder';
import { decodeRequest, encodeReply, type Reply } from '../src/proto/control';
import { destroyLater } from '../src/control/seqpacket';
import { socketOwners, socketPathProblems, unsafeDirectory, unsafeText } from './socket-dir';

export type CommandHandler = (words: string[]) => Promise<Reply>;

/**
 * The master CLI: a Unix SOCK_SEQPACKET socket where each packet is one request, of one command or
 * several, and each command's reply one packet. Requests are msgpackr maps `{ command: "reload" }`
 * or plain text lines, so `socat - UNIX-CONNECT:PATH,type=5` works too. A bad request gets an error
 * reply; no client can stall another (each connection is served on its own).
 */
export class ControlServer {
  private readonly server = new SeqpacketServer();

  constructor(
    readonly path: string,
    /** Who may connect: the socket's mode (0600 unless configured), owner and group. */
    private readonly access: SocketAccess & { mode: number },
    private readonly handle: CommandHandler,
    private readonly log: Logger,
  ) {
    this.server.on('connection', (socket: SeqpacketSocket) => this.serve(socket));
    this.server.on('error', (err: Error) => this.log.error({ err: err.message, path }, 'master socket error'));
  }

  async listen(): Promise<void> {
    const trusted = socketOwners(this.access);
    const problems = socketPathProblems(this.path, trusted);
    if (problems.length > 0) throw new Error(problems.join('; '));
    makeDirectory(dirname(this.path), this.access);
    // Made just now, or there already: whoever made it, it must be safe now.
    const unsafe = unsafeDirectory(dirname(this.path), trusted);
    if (unsafe !== undefined) throw new Error(unsafeText(unsafe));
    await removeStale(this.path);
    this.server.listen(this.path);
    applySocketAccess(this.path, this.access);
  }

  close(): void {
    this.server.close();
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }

  /**
   * A connection's requests are answered in the order they came, each command of a request in turn
   * (a "reload" finishes before the next command runs). A client that half-closes after its request,
   * as `echo "show info" | socat ...` does, still gets every reply; the connection closes after the
   * last one. A client that has gone is not written to: its replies are dropped.
   */
  private serve(socket: SeqpacketSocket): void {
    let open = true;
    /** The client has said all it will: close once everything it asked is answered. */
    let ended = false;
    let pending = 0;
    let answered: Promise<void> = Promise.resolve();
    const close = (): void => {
      if (!open) return;
      open = false;
      destroyLater(socket);
    };
    const send = (r: Reply, text: boolean): Promise<void> =>
      new Promise((resolve) => {
        if (!open) return resolve();
        const packet = encodeReply(r, text);
        socket.write(packet, 0, packet.length, resolve);
      });
    socket.on('error', close);
    socket.on('end', () => {
      ended = true;
      if (pending === 0) close();
    });
    socket.on('data', (packet: Buffer) => {
      const request = decodeRequest(packet);
      pending++;
      answered = answered
        .then(async () => {
          if (!request.ok) return send({ ok: false, lines: [request.error] }, request.text);
          for (const words of request.commands) await send(await this.answer(words), request.text);
        })
        // A write that throws (the socket went away meanwhile) ends the connection, not the chain.
        .catch(close)
        .finally(() => {
          if (--pending === 0 && ended) close();
        });
    });
  }

  private answer(words: string[]): Promise<Reply> {
    return this.handle(words).catch((err: Error) => ({ ok: false, lines: [`internal error: ${err.message}`] }));
  }
}

/**
 * The directories created here let in whoever the socket's mode lets in (to reach the socket, not to
 * list them) and belong to the socket's owner and group. A directory that exists keeps its mode and
 * owner (the caller refuses one that others could tamper with).
 */
function makeDirectory(dir: string, access: SocketAccess & { mode: number }): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  const mode = 0o700 | (access.mode & 0o070 ? 0o010 : 0) | (access.mode & 0o007 ? 0o001 : 0);
  for (let d = dir; d.length >= first.length; d = dirname(d)) applySocketAccess(d, { ...access, mode });
}

/** A socket file whose master is gone would make listen fail forever; a live one is an error. */
async function removeStale(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) throw new Error(`${path} exists and is not a socket: remove it or set global.masterSocket`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = new SeqpacketSocket();
    probe.on('error', () => {
      destroyLater(probe);
      resolve(false);
    });
    probe.connect(path, () => {
      destroyLater(probe);
      resolve(true);
    });
  });
  if (alive) throw new Error(`another ferry master listens on ${path}: stop it, or give this one another global.masterSocket`);
  unlinkSync(path);
}
