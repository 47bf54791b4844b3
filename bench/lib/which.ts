// Optional tools (wrk, haproxy) are detected the way a shell would find them,
// so installing them is all it takes for the bench to use them.

import fs from 'node:fs';
import path from 'node:path';

export function which(command: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return null;
}
