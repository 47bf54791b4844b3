// global.user and global.group: the master may start as root (to bind ports below 1024, to chown
// Unix sockets) while the workers, which handle every connection, run as that user.

import { describeRunAs } from '../config/run-as';
import type { RunAs } from '../config/types';

/**
 * Why this process cannot run its workers as `runAs`, or undefined when it can: as root, or when it
 * already runs as that user and group (then the workers have nothing to drop, so the same
 * configuration also serves a service manager that starts ferry as that user).
 */
export function cannotRunAs(runAs: RunAs | undefined): string | undefined {
  const uid = process.geteuid!();
  const gid = process.getegid!();
  if (runAs === undefined || uid === 0 || (uid === runAs.uid && gid === runAs.gid)) return undefined;
  return (
    `global.user needs ferry to start as root: workers cannot switch to ${describeRunAs(runAs)} from uid ${uid}, gid ${gid}; ` +
    'start ferry as root, or set global.user and global.group to the ones it runs as, or remove them'
  );
}

/**
 * Makes this process (every thread of it) run as `runAs`, for good. The order matters: the groups
 * first, while this process may still change them, and the uid last. Throws, saying which step
 * failed, unless the process ends up with exactly these ids and cannot regain root. Returns whether
 * there was anything to drop.
 */
export function dropPrivileges(runAs: RunAs): boolean {
  // Not root: the master checked (cannotRunAs) that this process already runs as runAs.
  if (process.geteuid!() !== 0) return false;
  step('set the supplementary groups', () => (runAs.account === undefined ? process.setgroups!([runAs.gid]) : initgroups(runAs.account, runAs.gid)));
  step('set the group id', () => process.setgid!(runAs.gid));
  step('set the user id', () => process.setuid!(runAs.uid));
  const now = { uid: process.getuid!(), euid: process.geteuid!(), gid: process.getgid!(), egid: process.getegid!() };
  if (now.uid !== runAs.uid || now.euid !== runAs.uid || now.gid !== runAs.gid || now.egid !== runAs.gid) {
    throw new Error(`the ids did not change as asked: now ${JSON.stringify(now)}`);
  }
  if (runAs.uid !== 0 && regainsRoot()) throw new Error('the process could become root again after dropping its privileges');
  return true;
}

/** process.initgroups() is documented but missing from @types/node 20. */
function initgroups(account: string, gid: number): void {
  (process as NodeJS.Process & { initgroups(user: string, extraGroup: number): void }).initgroups(account, gid);
}

function step(what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new Error(`cannot ${what}: ${(err as Error).message}`);
  }
}

function regainsRoot(): boolean {
  try {
    process.setuid!(0);
    return true;
  } catch {
    return false;
  }
}
