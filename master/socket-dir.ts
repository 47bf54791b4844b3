// The directories the master puts its sockets in: the master CLI socket's (global.masterSocket) and
// the one that holds the workers' redispatch sockets. Whoever can write to such a directory, or owns
// it or one above it, can remove or replace a socket there: another local user could then take
// `ferry ctl` over (an impostor master) or shut it out. So, as ssh-agent and tmux do, the master
// refuses a directory that is not its own (or root's) or that others can write to.

import { accessSync, constants, lstatSync, readlinkSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SocketAccess } from '../src/config/types';
import { findAccount, resolveUser } from '../src/os/ids';

/** sockaddr_un holds a path of 107 bytes and its terminating NUL. */
export const SUN_PATH_MAX = 107;

/** Symbolic links followed along one path at most, as the kernel's own limit (ELOOP). */
const MAX_LINKS = 40;

/**
 * Why another user than `trusted` (uids; root always counts) could remove or replace a file created
 * in `dir`, or undefined when none can. `dir` and every directory above it must belong to a trusted
 * user and be writable by no one else: not by its group or others, unless it is sticky, as /tmp is
 * (there, only a file's owner can remove or rename it). Symbolic links on the way count as the
 * directories they lead to, and must belong to a trusted user themselves. A part of the path that
 * does not exist yet is skipped: the master creates it, as its own.
 */
export function unsafeDirectory(dir: string, trusted: readonly number[]): string | undefined {
  return unsafePath(resolve(dir), new Set([0, ...trusted]), { links: 0 });
}

function unsafePath(path: string, trusted: ReadonlySet<number>, seen: { links: number }): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    let stat: Stats;
    try {
      stat = lstatSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && p !== '/') continue;
      return `"${p}" cannot be examined: ${(err as Error).message}`;
    }
    if (!trusted.has(stat.uid)) return `"${p}" belongs to ${owner(stat.uid)}, not to ${trustedText(trusted)}`;
    if (stat.isSymbolicLink()) {
      if (++seen.links > MAX_LINKS) return `"${p}": too many symbolic links`;
      const target = resolve(dirname(p), readlinkSync(p));
      const problem = unsafePath(target, trusted, seen);
      if (problem !== undefined) return `"${p}" leads to ${target}, and ${problem}`;
    } else if (!stat.isDirectory()) {
      return `"${p}" is not a directory`;
    } else if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) {
      return `"${p}" can be written by ${(stat.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${octal(stat.mode)})`;
    }
    if (p === '/') return undefined;
  }
}

/**
 * What stops the master from creating its socket at `path`, as the user it runs as, or nothing:
 * a path too long for a Unix socket, a directory that cannot be created or written, one that others
 * could tamper with, or something other than a socket already there. `ferry check` and the start
 * ask the same. Whether another master listens there is the start's to find out.
 */
export function socketPathProblems(path: string, trusted: readonly number[]): string[] {
  const bytes = Buffer.byteLength(path);
  if (bytes > SUN_PATH_MAX) return [`the path is too long for a Unix socket (${bytes} bytes, at most ${SUN_PATH_MAX}): choose a shorter one`];
  const dir = dirname(path);
  const unsafe = unsafeDirectory(dir, trusted);
  if (unsafe !== undefined) return [unsafeText(unsafe)];
  const problems: string[] = [];
  // The directory itself, or the first one above it that exists: the master creates the rest.
  let existing = dir;
  while (!exists(existing)) existing = dirname(existing);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = existing === dir ? `its directory "${dir}"` : `"${dir}" does not exist and "${existing}", where it would be created,`;
    problems.push(`${what} cannot be written by uid ${process.geteuid?.()} (${code ?? (err as Error).message}): choose a directory that user can write, or create this one for it`);
  }
  try {
    if (!lstatSync(path).isSocket()) problems.push(`"${path}" exists and is not a socket: remove it or choose another path`);
  } catch {
    // Nothing there yet, or a directory the check above refused already.
  }
  return problems;
}

/**
 * Who may own the master socket's directory and those above it: the master's user, root, and the
 * socket's own user (global.masterSocketAccess.user), to whom the master gives the directories it
 * creates.
 */
export function socketOwners(access: SocketAccess): number[] {
  const uid = process.geteuid?.() ?? 0;
  return access.user === undefined ? [uid] : [uid, resolveUser(access.user)];
}

/** The problem unsafeDirectory found, with what it means and what to do. */
export function unsafeText(problem: string): string {
  return `${problem}: another user could remove or replace the socket there. Use a directory that belongs to you or root and that only its owner can write (chmod go-w), or remove it so that ferry creates its own`;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function owner(uid: number): string {
  const account = findAccount(String(uid));
  return account === undefined ? `uid ${uid}` : `user ${account.name} (uid ${uid})`;
}

function trustedText(trusted: ReadonlySet<number>): string {
  const others = [...trusted].filter((uid) => uid !== 0).map(owner);
  return [...others, 'root'].join(' or ');
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}
