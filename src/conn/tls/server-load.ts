// The master reads the files of TLS towards servers (CA certificates, a client certificate and its
// key) when it checks, starts and reloads, as it reads the binds' certificates: the workers may have
// dropped the privileges the files need. A file that cannot be used refuses the configuration.

import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { BackendConfig, Config, ServerConfig, ServerTlsConfig } from '../../config/types';
import { formatProblem, problem } from '../../config/problems';
import { loadCaFile, loadCertificateFile } from './pem';

const CA_EXTENSIONS = ['.pem', '.crt'];

/** `config` with every server's TLS files read; or, when any cannot be used, every reason. */
export function loadServerTls(config: Config): { config?: Config; problems: string[] } {
  const problems: string[] = [];
  const backends = Object.fromEntries(
    Object.entries(config.backends).map(([name, backend]): [string, BackendConfig] => [
      name,
      {
        ...backend,
        servers: backend.servers.map((server): ServerConfig => {
          if (server.tls === undefined) return server;
          const read = readFiles(server.tls);
          const at = ['backends', name, 'servers', server.name, 'tls'];
          problems.push(...read.problems.map(([key, p]) => formatProblem(problem([...at, key], p))));
          return { ...server, tls: read.tls };
        }),
      },
    ]),
  );
  return problems.length > 0 ? { problems } : { config: { ...config, backends }, problems };
}

function readFiles(tls: ServerTlsConfig): { tls: ServerTlsConfig; problems: [string, string][] } {
  const problems: [string, string][] = [];
  const read: ServerTlsConfig = { ...tls };
  if (tls.key !== undefined && tls.cert === undefined) problems.push(['key', 'a key without "cert": give the client certificate it belongs to']);
  if (tls.ca !== undefined) {
    const caPem: string[] = [];
    for (const file of tls.ca.flatMap(caFiles)) {
      if (file.startsWith('!')) {
        problems.push(['ca', file.slice(1)]);
        continue;
      }
      const loaded = loadCaFile(file);
      if (loaded.ok) caPem.push(...loaded.certs);
      else problems.push(['ca', loaded.error]);
    }
    read.caPem = caPem;
  }
  if (tls.cert !== undefined) {
    const loaded = loadCertificateFile(tls.cert, tls.key);
    if (loaded.ok) [read.certPem, read.keyPem] = [loaded.certificate.cert, loaded.certificate.key];
    else problems.push(['cert', loaded.error]);
  }
  return { tls: read, problems };
}

/** A file stands for itself; a directory for its *.pem and *.crt files. A problem comes back after a "!". */
function caFiles(path: string): string[] {
  let directory: boolean;
  try {
    directory = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return [`!CA ${JSON.stringify(path)} ${code === 'ENOENT' ? 'does not exist; give a CA file or directory that does' : `cannot be read: ${(err as Error).message}`}`];
  }
  if (!directory) return [path];
  const files = readdirSync(path).filter((n) => CA_EXTENSIONS.includes(extname(n))).sort().map((n) => join(path, n));
  return files.length > 0 ? files : [`!CA directory ${JSON.stringify(path)} holds no certificate file (*.pem or *.crt)`];
}
