// A server's (or its backend's) "tls" option, normalized: paths made absolute, verify on unless
// turned off, and SNI from the server's host name when it has one. The files are read by the master
// (src/conn/tls/server-load.ts), as a bind's certificates are.

import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { ServerTlsConfig } from './types';

type Raw = Record<string, unknown>;

export function serverTlsOf(raw: Raw, host: string): ServerTlsConfig {
  const ca = raw.ca === undefined ? undefined : [raw.ca as string | string[]].flat().map((p) => resolve(p));
  // A server given by IP address has no name to send; one given by name is checked against it.
  const sni = (raw.sni as string | undefined) ?? (isIP(host) === 0 ? host : undefined);
  return {
    verify: raw.verify !== false,
    ...(ca !== undefined && { ca }),
    ...(sni !== undefined && { sni }),
    ...(raw.cert !== undefined && { cert: resolve(raw.cert as string) }),
    ...(raw.key !== undefined && { key: resolve(raw.key as string) }),
    alpn: (raw.alpn as string[] | undefined) ?? [],
  };
}
