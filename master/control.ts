import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { SeqpacketServer, SeqpacketSocket } from 'node-unix-socket';
import type { Logger } from '../src/log';
import { decodeRequest, encodeReply, type Reply } from '../src/control-protocol';
import { destroyLater } from '../src/seqpacket';

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
    private readonly handle: CommandHandler,
    private readonly log: Logger,
  ) {
    this.server.on('connection', (socket: SeqpacketSocket) => this.serve(socket));
    this.server.on('error', (err: Error) => this.log.error({ err: err.message, path }, 'master socket error'));
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    await removeStale(this.path);
    this.server.listen(this.path);
    // Only the user running ferry may reload or reconfigure it.
    chmodSync(this.path, 0o600);
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
