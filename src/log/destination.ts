import { writeSync } from 'node:fs';

/**
 * A write(2) holds at most this many bytes to stay whole on a pipe (PIPE_BUF on Linux): each thread
 * of each process writes to the same fd 1, and a longer write could be cut by another's.
 */
const ATOMIC_WRITE = 4096;

/** Something to wait on for a millisecond while a full pipe drains. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Log lines to an fd, written together at the end of the event-loop turn that logged them. A busy
 * proxy logs a line per request and many requests end in one turn: one write(2) for all of them
 * instead of one each (a synchronous write per line cost about a quarter of an HTTP request's CPU).
 * An idle process writes at once, a turn later. Lines still held when the process or the thread
 * exits, even on an uncaught exception, are written by the 'exit' handler; only a SIGKILL loses them.
 */
export class BatchedDestination {
  private lines: string[] = [];
  private scheduled = false;

  constructor(private readonly fd: number) {
    process.on('exit', () => this.flushSync());
  }

  write(line: string): void {
    this.lines.push(line);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushSync());
  }

  /** pino's logger.flush(): everything held is written before the callback. */
  flush(done?: (err?: Error) => void): void {
    this.flushSync();
    done?.();
  }

  flushSync(): void {
    this.scheduled = false;
    const lines = this.lines;
    if (lines.length === 0) return;
    this.lines = [];
    let batch = '';
    let bytes = 0;
    for (const line of lines) {
      const size = Buffer.byteLength(line);
      if (bytes > 0 && bytes + size > ATOMIC_WRITE) {
        this.writeAll(batch);
        batch = '';
        bytes = 0;
      }
      batch += line;
      bytes += size;
    }
    this.writeAll(batch);
  }

  /**
   * fd 1 may be a non-blocking pipe that is full for a moment (EAGAIN): the lines wait for its reader
   * rather than being dropped. Any other error (the reader is gone) drops them.
   */
  private writeAll(text: string): void {
    let data = Buffer.from(text);
    while (data.length > 0) {
      try {
        data = data.subarray(writeSync(this.fd, data));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        Atomics.wait(PAUSE, 0, 0, 1);
      }
    }
  }
}
