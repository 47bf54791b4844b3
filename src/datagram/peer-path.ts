import { join } from 'node:path';
import type { Config } from '../config/types';

/** sockaddr_un holds a path of 107 bytes and its terminating NUL. */
const SUN_PATH_MAX = 107;
/** Room for "<generation>.<group>" after the directory, however many reloads come. */
const NAME_ROOM = 16;

/**
 * Where a group's coordinator receives datagrams other groups redispatch to its threads: one Unix
 * datagram socket per (generation, group) in the master's private directory. A restarted worker
 * takes the same name.
 */
export function peerPath(dir: string, generation: number, group: number): string {
  return join(dir, `${generation}.${group}`);
}

/** Only datagrams of a UDP frontend with more than one group cross processes. */
export function needsPeerSockets(config: Config): boolean {
  return config.global.groups > 1 && Object.values(config.frontends).some((f) => f.mode === 'udp');
}

/** Why sockets in `dir` would have paths too long for a Unix socket, or undefined when they fit. */
export function peerDirProblem(dir: string): string | undefined {
  const room = Buffer.byteLength(dir) + 1 + NAME_ROOM;
  if (room <= SUN_PATH_MAX) return undefined;
  return `the directory for the groups' datagram sockets, "${dir}", is too long (${Buffer.byteLength(dir)} bytes; a Unix socket path holds ${SUN_PATH_MAX}): set RUNTIME_DIRECTORY or TMPDIR to a shorter directory`;
}
