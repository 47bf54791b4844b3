import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { constants } from 'node:os';
import { createReuseportFd } from 'node-unix-socket';
import type { BindAddress, BindConfig, Config, SocketAccess } from '../src/config/types';
import { resolveGroup, resolveUser } from '../src/os/ids';
import { NO_INHERITED_SOCKETS, type InheritedSocket, type InheritedSockets } from './inherited';
import { createServerHandle, type ServerHandle } from './server-handle';
import { explain } from './bind-error-text';
import { bindUdp } from './udp-handle';
import { migrateOnClose } from './migrate-req';

export type { ServerHandle } from './server-handle';

const UV_TCP_IPV6ONLY = 1;
const osErrno = constants.errno;

export interface BoundReceiver {
  /** The bind's identity (`BindConfig.key`), also the id workers know the receiver by. */
  id: string;
  bind: BindConfig;
  frontend: string;
  /** Where the bind sits in the config, for messages: frontends.web.bind[0]. */
  path: string;
  /** Shard 0's socket: the only one unless the bind has shards. */
  handle: ServerHandle;
  /** Every shard's socket, shard 0's first; each thread gets the dups of one (shardOf). */
  shards: ServerHandle[];
  /** Its sockets were opened with SO_REUSEPORT, so shards can be added beside them. */
  reuseport: boolean;
  /** The address the kernel gave (a port 0 resolved to the port chosen). */
  address: string;
  /** Passed by the service manager (socket activation) rather than bound here: never closed by ferry. */
  inherited: boolean;
}

export class BindError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/**
 * Binds every receiver of the configuration, or none: on any failure the ones bound here are closed
 * and the error lists every bind that failed. A bind whose socket already exists in `existing` (same
 * key and options, from the running generation) reuses it: its kernel accept queue carries over. A
 * bind that names an inherited socket (fd@NAME), or repeats the address of one, takes that socket.
 */
export async function bindAll(
  config: Config,
  existing: ReadonlyMap<string, BoundReceiver> = new Map(),
  inherited: InheritedSockets = NO_INHERITED_SOCKETS,
): Promise<BoundReceiver[]> {
  const bound: BoundReceiver[] = [];
  const problems: string[] = [];
  for (const frontend of Object.values(config.frontends)) {
    for (const [i, bind] of frontend.bind.entries()) {
      const path = `frontends.${frontend.name}.bind[${i}]`;
      const old = existing.get(bind.key);
      try {
        if (old !== undefined && !old.inherited) reuse(old.bind.address, bind.address);
        const socket = old === undefined ? await open(bind, inherited) : reshard(old, bind);
        const r = { ...socket, id: bind.key, bind, frontend: frontend.name, path };
        if (r.inherited) takenOnce(r, bound);
        bound.push(r);
      } catch (err) {
        problems.push(`${path}: cannot bind "${bind.text}": ${(err as Error).message}`);
      }
    }
  }
  if (problems.length > 0) {
    for (const r of bound) {
      const kept = existing.get(r.id);
      if (kept === undefined) closeReceiver(r);
      else closeShards(r.shards.filter((h) => !kept.shards.includes(h)));
    }
    throw new BindError(problems);
  }
  return bound;
}

type Socket = Pick<BoundReceiver, 'handle' | 'shards' | 'reuseport' | 'address' | 'inherited'>;

async function open(bind: BindConfig, inherited: InheritedSockets): Promise<Socket> {
  const address = bind.address;
  if (address.kind === 'fd') return fromManager(inherited.named(address.name));
  const socket = inherited.at(address);
  if (socket !== undefined) return fromManager(socket);
  if (address.kind === 'tcp' && bind.shards !== undefined) return openShards(address, bind.shards);
  const handle = await bindOne(address);
  return { handle, shards: [handle], reuseport: false, address: boundAddress(bind, handle), inherited: false };
}

function fromManager(socket: InheritedSocket): Socket {
  return { handle: socket.handle, shards: [socket.handle], reuseport: false, address: socket.text, inherited: true };
}

/** One SO_REUSEPORT socket per shard; shards after the first take the port the first one got. */
function openShards(address: TcpAddress, count: number): Socket {
  const first = bindReuseport(address.host, address.port);
  const shards = [first];
  try {
    const port = portOf(first);
    while (shards.length < count) shards.push(bindReuseport(address.host, port));
  } catch (err) {
    closeShards(shards);
    throw err;
  }
  return { handle: first, shards, reuseport: true, address: hostPort(address.family, first), inherited: false };
}

/**
 * A kept receiver with another shard count: shards are added beside the kept ones, or the extra ones
 * are left out, to close once no generation holds them (migrating their queues, see shard-close.ts).
 */
function reshard(old: BoundReceiver, bind: BindConfig): Socket {
  const want = bind.shards ?? 1;
  if (want === old.shards.length || old.inherited) return old;
  if (want < old.shards.length) {
    migrateOnClose();
    return { ...old, shards: old.shards.slice(0, want) };
  }
  if (!old.reuseport || old.bind.address.kind !== 'tcp') {
    throw new Error('this socket was opened without SO_REUSEPORT, so no shard can be added beside it while it stays open; remove the bind in one reload and add it back with "shards" in the next, or restart');
  }
  const port = portOf(old.handle);
  const added: ServerHandle[] = [];
  try {
    while (old.shards.length + added.length < want) added.push(bindReuseport(old.bind.address.host, port));
  } catch (err) {
    closeShards(added);
    throw err;
  }
  return { ...old, shards: [...old.shards, ...added] };
}

type TcpAddress = Extract<BindAddress, { kind: 'tcp' }>;

/**
 * The fds of the shards open in this process. node-unix-socket creates them without FD_CLOEXEC and
 * Node offers no fcntl, so every worker forked would inherit all of them: workers close these first
 * (workers/shard-fds.ts), keeping only the dups of their own shard that the master sends.
 */
const shardFds = new Set<number>();

export function openShardFds(): number[] {
  return [...shardFds];
}

/** node-unix-socket binds (without listening) a TCP socket with SO_REUSEADDR and SO_REUSEPORT set. */
function bindReuseport(host: string, port: number): ServerHandle {
  let fd: number;
  try {
    fd = createReuseportFd(port, host);
  } catch (err) {
    throw new Error(explainText((err as Error).message));
  }
  const handle = createServerHandle(null, 0, 0, fd);
  if (typeof handle === 'number') throw new Error(explain(handle, 'tcp'));
  shardFds.add(fd);
  return handle;
}

/** Closes the master's socket of each shard given. */
export function closeShards(handles: readonly ServerHandle[]): void {
  for (const h of handles) {
    shardFds.delete(h.fd);
    h.close();
  }
}

/** node-unix-socket reports the system's error text only: the common ones get the same advice as a plain bind. */
function explainText(message: string): string {
  const errno = TEXT_ERRNO[message];
  return errno === undefined ? message : explain(errno, 'tcp');
}

const TEXT_ERRNO: Record<string, number> = {
  'Address already in use': -osErrno.EADDRINUSE,
  'Permission denied': -osErrno.EACCES,
  'Cannot assign requested address': -osErrno.EADDRNOTAVAIL,
};

function portOf(handle: ServerHandle): number {
  const out: { port?: number } = {};
  handle.getsockname?.(out);
  if (out.port === undefined) throw new Error('the kernel gave no port for the first shard');
  return out.port;
}

/** Two binds that reach one inherited socket (by name and by address, say) would accept on it twice. */
function takenOnce(r: BoundReceiver, bound: readonly BoundReceiver[]): void {
  const other = bound.find((b) => b.handle === r.handle);
  if (other !== undefined) {
    throw new Error(`it is the inherited socket ${r.address}, which ${other.path} ("${other.bind.text}") already takes; keep one of the two`);
  }
}

/** Checks that a kept socket can take the new options; a Unix socket's file gets the new ones. */
function reuse(was: BindAddress, now: BindAddress): void {
  if (now.kind === 'unix') return applySocketAccess(now.path, now);
  if (now.kind === 'tcp' && was.kind === 'tcp' && now.v6only !== was.v6only) {
    throw new Error('v6only cannot change on a socket that stays open; remove the bind in one reload and add it back in the next, or restart');
  }
}

/**
 * Closes the master's socket, which ends it once no worker holds a dup; removes a Unix socket's file.
 * An inherited socket stays open: it is the service manager's, and a later configuration may take it again.
 */
export function closeReceiver(r: BoundReceiver): void {
  if (r.inherited) return;
  closeShards(r.shards);
  if (r.bind.address.kind === 'unix') unlinkQuietly(r.bind.address.path);
}

async function bindOne(address: Exclude<BindAddress, { kind: 'fd' }>): Promise<ServerHandle> {
  switch (address.kind) {
    case 'tcp':
      return bindTcp(address.host, address.port, address.family, address.v6only);
    case 'unix': {
      await removeStaleSocket(address.path);
      const handle = check(createServerHandle(address.path, -1, -1), 'unix');
      try {
        applySocketAccess(address.path, address);
      } catch (err) {
        handle.close();
        unlinkQuietly(address.path);
        throw err;
      }
      return handle;
    }
    case 'udp':
      return bindUdp(address.host, address.port, address.family);
    case 'abns':
      // A leading NUL puts the name in Linux's abstract namespace: no file, gone with its last fd.
      return check(createServerHandle(`\0${address.name}`, -1, -1), 'unix');
  }
}

function bindTcp(host: string, port: number, family: 4 | 6, v6only: boolean): ServerHandle {
  const handle = check(createServerHandle(host, port, family, undefined, v6only ? UV_TCP_IPV6ONLY : 0), 'tcp');
  // libuv keeps EADDRINUSE from bind() for listen(); getsockname() reports it now.
  const err = handle.getsockname?.({}) ?? 0;
  if (err !== 0) {
    handle.close();
    throw new Error(explain(err, 'tcp'));
  }
  return handle;
}

function check(result: ServerHandle | number, kind: 'tcp' | 'unix'): ServerHandle {
  if (typeof result === 'number') throw new Error(explain(result, kind));
  return result;
}

/**
 * A socket file left by a process that died would make bind() fail forever. It is stale when nobody
 * accepts on it; a file that is not a socket is never removed.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error('the path exists and is not a socket: remove it or choose another path');
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error('address already in use: another process listens on this socket; stop it or choose another path');
  unlinkQuietly(path);
}

/** Gives a socket file (or the directory of the master socket) its configured mode, owner and group. */
export function applySocketAccess(path: string, access: SocketAccess): void {
  if (access.mode !== undefined) chmodSync(path, access.mode);
  if (access.user !== undefined || access.group !== undefined) {
    const uid = access.user === undefined ? -1 : resolveUser(access.user);
    const gid = access.group === undefined ? -1 : resolveGroup(access.group);
    chownSync(path, uid, gid);
  }
}

function boundAddress(bind: BindConfig, handle: ServerHandle): string {
  if (bind.address.kind !== 'tcp' && bind.address.kind !== 'udp') return bind.text;
  return hostPort(bind.address.family, handle);
}

function hostPort(family: 4 | 6, handle: ServerHandle): string {
  const out: { address?: string; port?: number } = {};
  handle.getsockname?.(out);
  return family === 6 ? `[${out.address}]:${out.port}` : `${out.address}:${out.port}`;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
