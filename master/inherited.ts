// Sockets passed by the service manager (socket activation): what each one is, where it listens,
// and which bind takes it. They belong to the manager, which keeps them open across restarts of
// the service, so ferry serves on them but never closes them.

import { fstatSync, readFileSync } from 'node:fs';
import { bindKey } from '../src/config/address';
import type { BindAddress } from '../src/config/types';
import type { Logger } from '../src/log/log';
import { takeListenFds, type PassedFd } from './listen-fds';
import { createServerHandle, type ServerHandle } from './server-handle';

export interface InheritedSocket extends PassedFd {
  handle: ServerHandle;
  /** Where it listens; undefined for a Unix socket the kernel's table does not show (another network namespace). */
  address: BindAddress | undefined;
  /** For messages and logs: "127.0.0.1:8080", "unix@/run/ferry/web.sock". */
  text: string;
}

/** A passed fd ferry cannot serve on. It is left as it is. */
export interface UnusableFd extends PassedFd {
  reason: string;
}

/** The Unix socket is listening (__SO_ACCEPTCON in /proc/net/unix's Flags). */
const UNIX_LISTENING = 0x10000;
const ACTIVATION = 'fd@ binds work only under socket activation (a systemd .socket unit, or systemd-socket-activate)';

export class InheritedSockets {
  constructor(
    readonly sockets: readonly InheritedSocket[],
    readonly unusable: readonly UnusableFd[] = [],
    /** Why no fd was taken, when none was. */
    private readonly none?: { reason: string; ignored: boolean },
  ) {}

  /** Every passed fd, usable or not, in fd order. */
  private get passed(): (InheritedSocket | UnusableFd)[] {
    return [...this.sockets, ...this.unusable].sort((a, b) => a.fd - b.fd);
  }

  /** The socket an fd@ bind names: by name, or by fd number when all digits. Throws saying what was passed. */
  named(name: string): InheritedSocket {
    const byFd = /^\d+$/.test(name);
    const found = this.passed.filter((s) => (byFd ? s.fd === Number(name) : s.name === name));
    if (found.length === 0) throw new Error(this.missing(name, byFd));
    if (found.length > 1) {
      throw new Error(
        `${found.length} sockets are named "${name}" (fds ${found.map((s) => s.fd).join(', ')}): give each its own ` +
          'FileDescriptorName= (one .socket unit per name), or bind them by their addresses',
      );
    }
    const [socket] = found;
    if ('reason' in socket) throw new Error(`the socket named "${socket.name}" (fd ${socket.fd}) cannot be served: ${socket.reason}`);
    return socket;
  }

  /** The inherited socket listening at `address`, which a bind of that address takes instead of binding. */
  at(address: BindAddress): InheritedSocket | undefined {
    // Port 0 asks for a fresh port: it never names an existing socket.
    if (address.kind === 'tcp' && address.port === 0) return undefined;
    const key = bindKey(address);
    return this.sockets.find((s) => s.address !== undefined && bindKey(s.address) === key);
  }

  log(log: Logger): void {
    for (const s of this.sockets) log.info({ fd: s.fd, name: s.name, address: s.text }, 'socket inherited');
    for (const u of this.unusable) log.warn({ fd: u.fd, name: u.name, reason: u.reason }, 'inherited fd not usable: left alone');
    if (this.none?.ignored) log.warn({ reason: this.none.reason }, 'socket activation variables ignored');
  }

  private missing(name: string, byFd: boolean): string {
    const what = byFd ? `no socket was passed as fd ${name}` : `no socket named "${name}" was passed by the service manager`;
    if (this.none !== undefined) return `${what}: ${this.none.reason}; ${ACTIVATION}`;
    const passed = this.passed;
    if (byFd) return `${what} (it passed fds ${passed[0].fd}-${passed[passed.length - 1].fd})`;
    const names = [...new Set(passed.map((s) => s.name))];
    return `${what} (LISTEN_FDNAMES has: ${names.join(', ')}); check FileDescriptorName= in the .socket unit`;
  }
}

export const NO_INHERITED_SOCKETS = new InheritedSockets([], [], { reason: 'LISTEN_FDS is not set', ignored: false });

/**
 * Takes the sockets the service manager passed to this process, once, at start: reads and unsets
 * LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES and wraps each usable fd in a handle the master can send
 * to workers like the sockets it binds itself.
 */
export function takeInheritedSockets(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): InheritedSockets {
  const passed = takeListenFds(env, pid);
  if ('none' in passed) return new InheritedSockets([], [], { reason: passed.none, ignored: passed.ignored });
  const adopted = passed.fds.map(adopt);
  return new InheritedSockets(
    adopted.filter((s): s is InheritedSocket => 'handle' in s),
    adopted.filter((s): s is UnusableFd => 'reason' in s),
  );
}

function adopt({ fd, name }: PassedFd): InheritedSocket | UnusableFd {
  const unusable = (reason: string): UnusableFd => ({ fd, name, reason });
  let inode: number;
  try {
    const stat = fstatSync(fd);
    if (!stat.isSocket()) return unusable('it is not a socket');
    inode = stat.ino;
  } catch {
    return unusable('it is not open');
  }
  const handle = createServerHandle(null, 0, 0, fd);
  if (typeof handle === 'number') return unusable('it is not a TCP or Unix stream socket (ferry serves ListenStream= sockets)');
  const found = handle.getsockname === undefined ? unixSocket(inode) : tcpSocket(handle);
  // The handle is dropped, never closed: the fd stays the manager's.
  if (found.connected) return unusable('it is a connection, not a listening socket: ferry needs Accept=no in the .socket unit');
  return { fd, name, handle, address: found.address, text: found.text };
}

interface Found {
  address: BindAddress | undefined;
  text: string;
  connected: boolean;
}

function tcpSocket(handle: ServerHandle): Found {
  const out: { address?: string; port?: number; family?: string } = {};
  handle.getsockname!(out);
  const family = out.family === 'IPv6' ? 6 : 4;
  const address: BindAddress = { kind: 'tcp', host: out.address!, port: out.port!, family, v6only: false };
  // A listening socket has no peer.
  const connected = handle.getpeername!({}) === 0;
  return { address, text: family === 6 ? `[${out.address}]:${out.port}` : `${out.address}:${out.port}`, connected };
}

/**
 * How many times the kernel's table of Unix sockets is read for one socket. The kernel hands the
 * table out a page at a time, and a socket closed meanwhile in an earlier part of it shifts the
 * rest: a read can miss a socket that is there (seen on a busy machine), so a miss is read again.
 */
const UNIX_TABLE_READS = 5;

/** The kernel's table's row of the Unix socket with this inode. */
function unixRow(inode: number): RegExpExecArray | undefined {
  for (let i = 0; i < UNIX_TABLE_READS; i++) {
    // Num: RefCount Protocol Flags Type St Inode [Path]; an abstract name shows as "@name".
    const row = readFileSync('/proc/net/unix', 'utf8')
      .split('\n')
      .map((l) => /^\S+: \S+ \S+ ([0-9A-Fa-f]+) \S+ \S+ (\d+)(?: (.*))?$/.exec(l))
      .find((m): m is RegExpExecArray => m !== null && Number(m[2]) === inode);
    if (row !== undefined) return row;
  }
  return undefined;
}

/** Node's pipe handles cannot tell their path: the kernel's table of Unix sockets can, by inode. */
function unixSocket(inode: number): Found {
  const line = unixRow(inode);
  if (line === undefined) return { address: undefined, text: 'a Unix socket', connected: false };
  const connected = (parseInt(line[1], 16) & UNIX_LISTENING) === 0;
  const path = line[3] ?? '';
  if (path.startsWith('@')) return { address: { kind: 'abns', name: path.slice(1) }, text: `abns@${path.slice(1)}`, connected };
  if (path === '') return { address: undefined, text: 'an unnamed Unix socket', connected };
  return { address: { kind: 'unix', path }, text: `unix@${path}`, connected };
}
