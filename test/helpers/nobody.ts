import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's unprivileged account, "nobody", and its group, "nogroup" (see /etc/passwd and /etc/group). */
export const NOBODY = 65534;

/** A command prefix that runs a program as nobody:nogroup with no other group. */
export const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

/** Why tests that start ferry as root cannot run here, or undefined when they can. */
export const NOT_ROOT = process.getuid?.() === 0 ? undefined : 'they start ferry as root and need uid 0';

/** Why tests that run programs as nobody cannot run here, or undefined when they can. */
export const CANNOT_SWITCH = NOT_ROOT ?? (['/usr/bin/setpriv', '/bin/setpriv'].some(existsSync) ? undefined : 'setpriv (util-linux) is not installed');

// A directory that nobody can read and create files in, as in /tmp: the test helper's own temp
// directory is private (0700).
const shared = mkdtempSync(join(tmpdir(), 'ferry-nobody-'));
chmodSync(shared, 0o1777);
process.on('exit', () => rmSync(shared, { recursive: true, force: true }));
let paths = 0;

/** A path in a directory that does not exist yet, under a directory open to nobody. */
export function freshPath(name: string): string {
  return join(shared, `dir-${++paths}`, name);
}

/** Writes a file nobody can read, and returns its path. */
export function writeShared(name: string, text: string): string {
  const file = join(shared, name);
  writeFileSync(file, text);
  return file;
}
