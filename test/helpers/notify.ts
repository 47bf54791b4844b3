import { DgramSocket } from 'node-unix-socket';
import { tmpPath } from './ferry';

/** One sd_notify datagram: its KEY=VALUE lines. */
export type Notification = Record<string, string>;

let sockets = 0;

/**
 * A socket standing in for systemd's NOTIFY_SOCKET: it collects every datagram sent to it.
 * node-unix-socket aborts the process when a socket is closed from inside one of its callbacks or
 * while a sender may still be writing: close it only after the ferry that used it has exited.
 */
export class NotifyListener {
  readonly path = tmpPath(`notify-${++sockets}.sock`);
  readonly received: Notification[] = [];
  private readonly socket = new DgramSocket();
  private waiters: (() => void)[] = [];

  constructor() {
    this.socket.bind(this.path);
    this.socket.on('data', (data: Buffer) => {
      const lines = data.toString('utf8').split('\n').filter((l) => l !== '');
      this.received.push(Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])));
      [...this.waiters].forEach((w) => w());
    });
  }

  /** The messages without the watchdog pings, which arrive at any time. */
  get states(): Notification[] {
    return this.received.filter((n) => n.WATCHDOG === undefined);
  }

  /** Resolves once `condition` holds, re-checked on every datagram; rejects after `timeoutMs`. */
  until(condition: (received: Notification[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (!condition(this.received)) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(check);
    });
  }

  /** Waits for the `count`th state message (watchdog pings aside). */
  async state(count: number): Promise<Notification> {
    await this.until(() => this.states.length >= count, `notification ${count}`);
    return this.states[count - 1];
  }

  close(): void {
    setImmediate(() => this.socket.close());
  }
}
