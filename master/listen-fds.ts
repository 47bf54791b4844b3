// The environment half of socket activation (sd_listen_fds(3)): which fds the service manager passed
// to this process and their names. Works the way libsystemd's sd_listen_fds_with_names(unset=1) does.

import { FIRST_INHERITED_FD } from '../src/config/address';

export interface PassedFd {
  fd: number;
  /** From LISTEN_FDNAMES: systemd's FileDescriptorName=, by default the .socket unit's name. */
  name: string;
}

/** The fds that were passed, or why none were taken. */
export type ListenFds = { fds: PassedFd[] } | { none: string; ignored: boolean };

/** libsystemd's name for an fd the manager gave no name. */
const UNNAMED = 'unknown';

/**
 * Reads LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, then removes them from `env`: they describe this
 * process's fds only, and workers forked with this environment must not take them for their own.
 */
export function takeListenFds(env: NodeJS.ProcessEnv, pid: number): ListenFds {
  const { LISTEN_PID: listenPid, LISTEN_FDS: count, LISTEN_FDNAMES: names } = env;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (count === undefined) return { none: 'LISTEN_FDS is not set', ignored: false };
  if (listenPid === undefined) return { none: 'LISTEN_FDS is set but LISTEN_PID is not', ignored: true };
  // Set for another process (ours forked from it, say): not our fds.
  if (!/^\d+$/.test(listenPid) || Number(listenPid) !== pid) {
    return { none: `LISTEN_PID=${listenPid} is not this process (${pid})`, ignored: true };
  }
  if (!/^\d+$/.test(count)) return { none: `LISTEN_FDS=${JSON.stringify(count)} is not a number`, ignored: true };
  const n = Number(count);
  if (n === 0) return { none: 'LISTEN_FDS=0', ignored: false };
  const list = names?.split(':') ?? Array<string>(n).fill(UNNAMED);
  // As libsystemd does: names that do not match the fds one to one could be anyone's.
  if (list.length !== n) return { none: `LISTEN_FDNAMES has ${list.length} names for LISTEN_FDS=${n}`, ignored: true };
  return { fds: list.map((name, i) => ({ fd: FIRST_INHERITED_FD + i, name })) };
}
