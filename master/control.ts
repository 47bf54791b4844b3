import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { SeqpacketServer, SeqpacketSocket } from 'node-unix-socket';
import type { SocketAccess } from '../src/config/types';
import type { Logger } from '../src/log/log';
import { applySocketAccess } from './binder';
import { decodeRequest, encodeReply, type Reply } from '../src/proto/control';
import { destroyLater } from '../src/control/seqpacket';

export type CommandHandler = (words: string[]) => Promise<Reply>;

/**
 * The master CLI: a Unix SOCK_SEQPACKET socket where each packet is one request and each reply one
 * packet. Requests are msgpackr maps `{ command: "reload" }` or plain text lines, so `socat -
 * UNIX-CONNECT:PATH,type=5` works too. A bad request gets an error reply; no client can stall
 * another (each is served as its packets arrive).
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
    makeDirectory(dirname(this.path), this.access);
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

  private serve(socket: SeqpacketSocket): void {
    let open = true;
    const close = (): void => {
      if (!open) return;
      open = false;
      destroyLater(socket);
    };
    // A reply can be ready after the client has gone (a reload takes a while): then it is dropped.
    const reply = (r: Reply, text: boolean): void => {
      if (open) socket.write(encodeReply(r, text));
    };
    socket.on('error', close);
    socket.on('end', close);
    socket.on('data', (packet: Buffer) => {
      const request = decodeRequest(packet);
      if (!request.ok) return reply({ ok: false, lines: [request.error] }, request.text);
      this.handle(request.words).then(
        (r) => reply(r, request.text),
        (err: Error) => reply({ ok: false, lines: [`internal error: ${err.message}`] }, request.text),
      );
    });
  }
}

/**
 * The directories created here let in whoever the socket's mode lets in (to reach the socket, not to
 * list them) and belong to the socket's owner and group. A directory that exists is left as it is.
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
