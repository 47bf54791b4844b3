import { fstatSync } from 'node:fs';

/**
 * Whether fd 1 is the journald stream that systemd gave this process: systemd sets JOURNAL_STREAM
 * to "DEVICE:INODE" of that stream, and a process whose output was redirected since (a shell's
 * `> file`) inherits the variable but not the stream, so the numbers must match fd 1's.
 */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (match === null) return false;
  try {
    const st = fstatSync(1, { bigint: true });
    return st.dev === BigInt(match[1]) && st.ino === BigInt(match[2]);
  } catch {
    return false;
  }
}
