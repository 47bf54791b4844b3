// The master reads the files of TLS towards servers (CA certificates, a client certificate and its
// key) when it checks, starts and reloads, as it reads the binds' certificates: the workers may have
// dropped the privileges the files need. A file that cannot be used refuses the configuration.

import type { BackendConfig, Config, ServerConfig, ServerTlsConfig } from '../../config/types';
import { formatProblem, problem } from '../../config/problems';
import { readCas } from './ca';
import { loadCertificateFile } from './pem';

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
    const cas = readCas(tls.ca);
    problems.push(...cas.problems.map((p): [string, string] => ['ca', p]));
    read.caPem = cas.certs;
  }
  if (tls.cert !== undefined) {
    const loaded = loadCertificateFile(tls.cert, tls.key);
    if (loaded.ok) [read.certPem, read.keyPem] = [loaded.certificate.cert, loaded.certificate.key];
    else problems.push(['cert', loaded.error]);
  }
  return { tls: read, problems };
}
