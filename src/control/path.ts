import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the master listens for `ferry ctl` when the configuration does not say: systemd's
 * RuntimeDirectory when it set one, /run/ferry for root, else a directory of the user's own.
 */
export function defaultMasterSocket(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.RUNTIME_DIRECTORY?.split(':')[0];
  if (runtime) return join(runtime, 'ferry.sock');
  if (process.getuid?.() === 0) return '/run/ferry/ferry.sock';
  return join(env.XDG_RUNTIME_DIR || tmpdir(), `ferry-${process.getuid?.() ?? 'user'}`, 'ferry.sock');
}
