import { DgramSocket } from 'node-unix-socket';
import type { Reply } from '../src/proto/control';
import type { Logger } from '../src/log/log';

/** The variables through which systemd asks a service to report to it. */
const SYSTEMD_VARIABLES = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;

/**
 * systemd's readiness protocol (sd_notify): each state change is one datagram of KEY=VALUE lines
 * sent to the socket named by NOTIFY_SOCKET, and WATCHDOG=1 is sent every half WATCHDOG_USEC.
 * Without a usable NOTIFY_SOCKET every method does nothing, so the master calls them all the same.
 */
export class SystemdNotifier {
  private socket: DgramSocket | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  private constructor(
    private readonly path: string | undefined,
    private readonly log: Logger,
  ) {
    if (path === undefined) return;
    this.socket = new DgramSocket();
    // Only a failed receive is reported this way; the socket is never bound, so it receives nothing.
    this.socket.on('error', (err: Error) => this.failed(err, 'socket'));
  }

  /**
   * Reads systemd's variables, then removes them from `env`: the workers forked with this
   * environment must never report to systemd in the master's name.
   */
  static fromEnv(env: NodeJS.ProcessEnv, log: Logger): SystemdNotifier {
    const [socket, watchdogUsec, watchdogPid] = SYSTEMD_VARIABLES.map((name) => env[name]);
    SYSTEMD_VARIABLES.forEach((name) => delete env[name]);
    const notifier = new SystemdNotifier(usablePath(socket, log), log);
    if (watchdogUsec !== undefined) notifier.startWatchdog(Number(watchdogUsec), watchdogPid);
    return notifier;
  }

  /** Every thread of the serving generation is ready: at start, and when a reload has ended. */
  ready(status: string): void {
    this.send({ READY: '1', MAINPID: String(process.pid), STATUS: status });
  }

  reloading(): void {
    // process.hrtime.bigint() is libuv's uv_hrtime(), which reads clock_gettime(CLOCK_MONOTONIC)
    // on Linux: the clock systemd compares MONOTONIC_USEC with.
    this.send({ RELOADING: '1', MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n), STATUS: 'reloading' });
  }

  /** A reload has ended, done or refused: either way systemd waits for READY=1 to end its reload. */
  reloaded(outcome: Reply): void {
    this.ready(outcome.lines[0].replace(/:$/, ''));
  }

  stopping(): void {
    clearInterval(this.watchdog);
    this.send({ STOPPING: '1', STATUS: 'stopping: waiting for sessions to end' });
  }

  /** An open socket keeps the process alive, so the master closes it once it has stopped. */
  close(): void {
    clearInterval(this.watchdog);
    this.socket?.close();
    this.socket = undefined;
  }

  private startWatchdog(usec: number, pid: string | undefined): void {
    if (this.socket === undefined) return;
    if (!Number.isSafeInteger(usec) || usec <= 0) return this.log.warn({ WATCHDOG_USEC: usec }, 'WATCHDOG_USEC is not a positive integer: no watchdog pings');
    if (pid !== undefined && Number(pid) !== process.pid) return this.log.warn({ WATCHDOG_PID: pid }, 'WATCHDOG_PID names another process: no watchdog pings');
    const intervalMs = Math.max(1, Math.floor(usec / 2000));
    // A ping comes from the master's event loop, so a blocked loop misses it and systemd acts.
    this.watchdog = setInterval(() => this.send({ WATCHDOG: '1' }), intervalMs).unref();
    this.log.info({ intervalMs }, 'systemd watchdog: pinging');
  }

  private send(fields: Record<string, string>): void {
    const socket = this.socket;
    if (socket === undefined) return;
    // A STATUS is one line of the datagram.
    const message = Object.entries(fields).map(([key, value]) => `${key}=${value.replace(/\n/g, ' ')}`).join('\n');
    const data = Buffer.from(message);
    try {
      socket.sendTo(data, 0, data.length, this.path!, (err) => err && this.failed(err, message));
    } catch (err) {
      this.failed(err as Error, message);
    }
  }

  private failed(err: Error, message: string): void {
    this.log.error({ err: err.message, notifySocket: this.path, message }, 'cannot notify systemd');
  }
}

/**
 * The NOTIFY_SOCKET forms node-unix-socket can reach: a path. Its DgramSocket sends to an address as
 * long as the whole sockaddr_un, which for an abstract name (`@name`) means the name padded with
 * NULs, a different name from the one systemd bound: such a socket would never hear from us.
 */
function usablePath(socket: string | undefined, log: Logger): string | undefined {
  if (socket === undefined || socket === '') return undefined;
  if (socket.startsWith('/')) return socket;
  const why = socket.startsWith('@') ? 'an abstract socket, which ferry cannot reach' : 'not a path, the only form ferry supports';
  log.warn({ NOTIFY_SOCKET: socket }, `NOTIFY_SOCKET is ${why}: systemd will not hear from ferry (give it a socket path)`);
  return undefined;
}
