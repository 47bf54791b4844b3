import { readFileSync, writeFileSync } from 'node:fs';

const SYSCTL = '/proc/sys/net/ipv4/tcp_migrate_req';

/**
 * Closing one socket of a SO_REUSEPORT group resets the connections in its accept queue, unless
 * net.ipv4.tcp_migrate_req is on: then the kernel moves them to another socket of the group (Linux
 * 5.14). A reload that lowers a bind's shards turns it on for this network namespace, or is refused,
 * so that no queued connection is lost. Returns whether ferry changed the setting.
 */
export function migrateOnClose(): boolean {
  let now: string;
  try {
    now = readFileSync(SYSCTL, 'utf8').trim();
  } catch {
    throw new Error('fewer shards need the kernel to move queued connections to the remaining ones (net.ipv4.tcp_migrate_req, Linux 5.14 or later), and this kernel has no such setting; keep the shard count, or restart');
  }
  if (now === '1') return false;
  try {
    writeFileSync(SYSCTL, '1');
  } catch (err) {
    throw new Error(`fewer shards need net.ipv4.tcp_migrate_req = 1, so that the closing shards' queued connections move to the others, and ferry may not set it (${(err as NodeJS.ErrnoException).code}); run \`sysctl -w net.ipv4.tcp_migrate_req=1\`, or keep the shard count`);
  }
  return true;
}
