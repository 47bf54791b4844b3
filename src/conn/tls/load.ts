// The master reads every bind's certificates when it checks, starts or reloads, as the user it runs
// as: the workers may have dropped the privileges that the key files need. What it read travels to
// the workers inside their configuration (TlsConfig.certificates).

import type { Certificate, Config, FrontendConfig, TlsConfig } from '../../config/types';
import { formatProblem, problem } from '../../config/problems';
import { loadCertificateFile, type Loaded } from './pem';
import { loadServerTls } from './server-load';
import { readCas } from './ca';
import { pemFilesOf, type PemKind } from './pem-files';

/** Files of a certificate directory that hold a certificate chain (their key in them or in NAME.key). */
const BIND_CERTS: PemKind = { prefix: '', give: 'give a certificate directory or file that does', holds: '(*.pem or *.crt, each with its key in it or in NAME.key beside it)' };

export interface CertificatesLoaded {
  config?: Config;
  problems: string[];
}

/**
 * `config` with every TLS bind's certificates and every server's TLS files read; or, when any
 * cannot be used, every reason.
 */
export function loadCertificates(config: Config): CertificatesLoaded {
  // Both are read whatever the other found: every problem is told at once.
  const binds = loadBindCertificates(config);
  const servers = loadServerTls(binds.config ?? config);
  const problems = [...binds.problems, ...servers.problems];
  return problems.length > 0 ? { problems } : servers;
}

function loadBindCertificates(config: Config): CertificatesLoaded {
  const cache = new Map<string, Loaded>();
  const problems: string[] = [];
  const frontends = Object.fromEntries(
    Object.entries(config.frontends).map(([name, frontend]): [string, FrontendConfig] => [
      name,
      {
        ...frontend,
        bind: frontend.bind.map((bind, i) => {
          if (bind.tls === undefined) return bind;
          const read = readAll(bind.tls, cache);
          const at = ['frontends', name, 'bind', i, 'tls'];
          problems.push(...read.problems.map((p) => formatProblem(problem([...at, 'certs'], p))));
          if (bind.tls.clientCa === undefined) return { ...bind, tls: { ...bind.tls, certificates: read.certificates } };
          const cas = readCas(bind.tls.clientCa);
          problems.push(...cas.problems.map((p) => formatProblem(problem([...at, 'clientCa'], p))));
          return { ...bind, tls: { ...bind.tls, certificates: read.certificates, clientCaPem: cas.certs } };
        }),
      },
    ]),
  );
  return problems.length > 0 ? { problems } : { config: { ...config, frontends }, problems };
}

/** Whether any bind terminates TLS (the master then has certificates to read). */
export function hasTls(config: Config): boolean {
  return Object.values(config.frontends).some((f) => f.bind.some((b) => b.tls !== undefined));
}

function readAll(tls: TlsConfig, cache: Map<string, Loaded>): { certificates: Certificate[]; problems: string[] } {
  const certificates: Certificate[] = [];
  const problems: string[] = [];
  for (const path of tls.certs) {
    const files = pemFilesOf(path, BIND_CERTS);
    if (typeof files === 'string') {
      problems.push(files);
      continue;
    }
    for (const file of files) {
      const loaded = cache.get(file) ?? loadCertificateFile(file);
      cache.set(file, loaded);
      if (loaded.ok) certificates.push(loaded.certificate);
      else problems.push(loaded.error);
    }
  }
  return { certificates, problems };
}
