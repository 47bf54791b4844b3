import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Inodes of the sockets in LISTEN state on `port`, from the kernel's own table. */
export function listeningInodes(port: number): number[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth field.
      if (f[1].endsWith(`:${hexPort}`) && f[3] === '0A') inodes.push(Number(f[9]));
    }
  }
  return inodes;
}

/**
 * Connections waiting in the accept queue of the socket listening on `port`: the kernel shows the
 * queue's length as rx_queue on a LISTEN line.
 */
export function acceptQueue(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1].endsWith(`:${hexPort}`) && f[3] === '0A') return parseInt(f[4].split(':')[1], 16);
    }
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** The accept queue of each socket listening on `port` (SO_REUSEPORT shards), by inode. */
export function acceptQueues(port: number): Map<number, number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const queues = new Map<number, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1].endsWith(`:${hexPort}`) && f[3] === '0A') queues.set(Number(f[9]), parseInt(f[4].split(':')[1], 16));
    }
  }
  return queues;
}

/** How many fds of process `pid` refer to socket `inode`. */
export function fdsOnSocket(pid: number, inode: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) n++;
    } catch {
      // Closed while we looked.
    }
  }
  return n;
}

export interface Credentials {
  /** Real, effective, saved and filesystem ids, as /proc shows them. */
  uid: number[];
  gid: number[];
  groups: number[];
}

/** The credentials of every thread of process `pid` (the kernel keeps them per thread). */
export function threadCredentials(pid: number): Credentials[] {
  const out: Credentials[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    } catch {
      continue; // The thread ended while we looked.
    }
    const ids = (key: string): number[] => (new RegExp(`^${key}:(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
    out.push({ uid: ids('Uid'), gid: ids('Gid'), groups: ids('Groups') });
  }
  return out;
}

/** The state letter of process `pid` in /proc (R, S, T for stopped, Z for exited but not reaped…); undefined once it is gone. */
export function processState(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name, in parentheses, may hold spaces and parentheses: the state follows the last ")".
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

/** The socket inodes process `pid` has fds on. */
function socketInodes(pid: number): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) inodes.add(Number(m[1]));
    } catch {
      // Closed while we looked.
    }
  }
  return inodes;
}

/**
 * The remote ports of the TCP connections whose local port is `port` (on any address) and on which
 * process `pid` holds an fd: a connection the process has let go is not among them, whatever state
 * the kernel keeps it in (an orphaned FIN-WAIT-2 socket has no inode).
 */
export function heldConnections(pid: number, port: number): Set<number> {
  const inodes = socketInodes(pid);
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const remotes = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address and rem_address are ADDR:PORT in hex; state 0A is LISTEN; the inode is the tenth field.
      if (!f[1].endsWith(hexPort) || f[3] === '0A' || !inodes.has(Number(f[9]))) continue;
      remotes.add(parseInt(f[2].slice(f[2].indexOf(':') + 1), 16));
    }
  }
  return remotes;
}

/** Whether process `pid` holds an fd on the TCP connection from local port `port` to remote port `remote`. */
export function holdsConnection(pid: number, port: number, remote: number): boolean {
  return heldConnections(pid, port).has(remote);
}
