// CA certificates named by files and directories (TLS towards servers: `ca`; client certificates on a
// bind: `clientCa`), read by the master. A directory stands for its *.pem and *.crt files.

import { loadCaFile } from './pem';
import { pemFilesOf, type PemKind } from './pem-files';

const CA: PemKind = { prefix: 'CA ', give: 'give a CA file or directory that does', holds: '(*.pem or *.crt)' };

/** Every CA certificate of `paths`, and every reason a path cannot serve. */
export function readCas(paths: readonly string[]): { certs: string[]; problems: string[] } {
  const certs: string[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    const files = pemFilesOf(path, CA);
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
