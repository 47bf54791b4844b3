import { closeSync, fstatSync } from 'node:fs';
import { SHARD_FDS_ENV } from '../src/proto/ipc';

/**
 * Closes the shard sockets this process inherited from the master at fork (they lack FD_CLOEXEC,
 * see master/binder.ts): a worker holds only the dups of its own shards, received over IPC. Runs
 * before anything else opens an fd, so each number listed is still the inherited socket.
 */
export function closeInheritedShards(env: NodeJS.ProcessEnv): void {
  const list = env[SHARD_FDS_ENV];
  delete env[SHARD_FDS_ENV];
  for (const fd of list?.split(',').filter((f) => /^\d+$/.test(f)).map(Number) ?? []) {
    try {
      if (fstatSync(fd).isSocket()) closeSync(fd);
    } catch {
      // Not open here: nothing to close.
    }
  }
}
