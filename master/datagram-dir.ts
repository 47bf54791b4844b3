import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunAs } from '../src/config/types';
import { peerDirProblem } from '../src/datagram/peer-path';
import { unsafeDirectory } from './socket-dir';

/**
 * The master's private directory (mode 0700) for the Unix datagram sockets over which worker
 * processes redispatch datagrams to each other: filesystem paths, not abstract names, which any
 * local user could send to. It lives as long as the master.
 */
export class DatagramDir {
  private constructor(readonly path: string) {}

  /**
   * Under $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=) or the temporary directory, which must be
   * safe from other users (socket-dir.ts); throws with what is wrong.
   */
  static create(): DatagramDir {
    const parent = process.env.RUNTIME_DIRECTORY?.split(':')[0] || tmpdir();
    const problem = peerDirProblem(join(parent, 'ferry-XXXXXX'));
    if (problem !== undefined) throw new Error(problem);
    // mkdtemp makes a fresh directory of the master's own, but whoever can rename entries in its parent could swap it.
    const unsafe = unsafeDirectory(parent, [process.geteuid?.() ?? 0]);
    if (unsafe !== undefined) {
      throw new Error(`cannot put the groups' datagram sockets in "${parent}": ${unsafe}, and another user could replace the directory ferry makes there; set RUNTIME_DIRECTORY or TMPDIR to a directory that belongs to you or root and that only its owner can write (chmod go-w)`);
    }
    let path: string;
    try {
      path = mkdtempSync(join(parent, 'ferry-'));
    } catch (err) {
      throw new Error(`cannot create the directory for the groups' datagram sockets in "${parent}": ${(err as Error).message}; set RUNTIME_DIRECTORY or TMPDIR to a writable directory`);
    }
    return new DatagramDir(path);
  }

  /** Workers drop privileges before they bind there: the directory becomes theirs. */
  allow(runAs: RunAs | undefined): void {
    if (runAs !== undefined) chownSync(this.path, runAs.uid, runAs.gid);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
