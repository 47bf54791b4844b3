import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * `ferry start --pidfile PATH`, for those who manage ferry without systemd: the master's pid, written
 * once everything is bound (a temporary file renamed over PATH, so that a reader never sees half of
 * it; a file left by a master that was killed is replaced) and removed when the master exits, however
 * it exits but SIGKILL.
 */
export class PidFile {
  private written = false;

  constructor(readonly path: string) {}

  /** Throws with the reason when the file cannot be written. */
  write(): void {
    const temp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    try {
      writeFileSync(temp, `${process.pid}\n`, { mode: 0o644 });
      renameSync(temp, this.path);
    } catch (err) {
      remove(temp);
      throw new Error(`cannot write the pid file "${this.path}": ${(err as Error).message}`);
    }
    this.written = true;
    process.on('exit', () => this.remove());
  }

  /** Removes the file if it still holds this master's pid: another may have taken the path since. */
  remove(): void {
    if (!this.written) return;
    this.written = false;
    try {
      if (readFileSync(this.path, 'utf8').trim() === String(process.pid)) unlinkSync(this.path);
    } catch {
      // Gone already.
    }
  }
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Never made.
  }
}
