// ferry's master CLI as a user reaches it, `ferry ctl --json -s SOCKET show info`: the reloads the
// master counts as done. The measurements that run ferry at a quiet log level (no access log, so no
// "reload done" line either) count reloads this way, once the load has ended: each call is a Node
// process of its own, on the bench's CPU.

import { execFile } from 'node:child_process';

const TIMEOUT_MS = 10_000;

interface InfoReply {
  ok?: boolean;
  data?: { reloads?: unknown };
}

export function ferryReloads(cli: string, socket: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, 'ctl', '--json', '-s', socket, 'show', 'info'], { timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err !== null) return reject(new Error(`ferry ctl show info: ${err.message}${stderr === '' ? '' : `\n${stderr}`}`));
      let reply: InfoReply;
      try {
        reply = JSON.parse(stdout) as InfoReply;
      } catch {
        return reject(new Error(`ferry ctl show info: not JSON: ${stdout.slice(0, 200)}`));
      }
      const reloads = reply.data?.reloads;
      if (reply.ok !== true || typeof reloads !== 'number') return reject(new Error(`ferry ctl show info: no reload count in ${stdout.slice(0, 200)}`));
      resolve(reloads);
    });
  });
}
