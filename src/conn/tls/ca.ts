// CA certificates named by files and directories (TLS towards servers: `ca`; client certificates on a
// bind: `clientCa`), read by the master. A directory stands for its *.pem and *.crt files.

import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { loadCaFile } from './pem';

const CA_EXTENSIONS = ['.pem', '.crt'];

/** Every CA certificate of `paths`, and every reason a path cannot serve. */
export function readCas(paths: readonly string[]): { certs: string[]; problems: string[] } {
  const certs: string[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    const files = caFiles(path);
    if (typeof files === 'string') {
      problems.push(files);
      continue;
    }
    for (const file of files) {
      const loaded = loadCaFile(file);
      if (loaded.ok) certs.push(...loaded.certs);
      else problems.push(loaded.error);
    }
  }
  return { certs, problems };
}

function caFiles(path: string): string[] | string {
  let directory: boolean;
  try {
    directory = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `CA ${JSON.stringify(path)} ${code === 'ENOENT' ? 'does not exist; give a CA file or directory that does' : `cannot be read: ${(err as Error).message}`}`;
  }
  if (!directory) return [path];
  const files = readdirSync(path).filter((n) => CA_EXTENSIONS.includes(extname(n))).sort().map((n) => join(path, n));
  return files.length > 0 ? files : `CA directory ${JSON.stringify(path)} holds no certificate file (*.pem or *.crt)`;
}
