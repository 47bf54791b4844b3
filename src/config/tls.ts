// A bind's "tls" option: where its certificates are and which protocols it offers in ALPN. Only the
// shape is checked here; the files are read by the master when it checks, starts or reloads
// (src/conn/tls/load.ts), because workers may no longer be allowed to read them.

import { resolve } from 'node:path';
import { expected, isRecord, problem, unknownKey, type PathSegment, type Problem } from './problems';
import type { BindAddress, TlsConfig } from './types';

const TLS_KEYS = ['certs', 'alpn', 'clientCa', 'verifyClient'] as const;
const VERIFY_CLIENT = ['required', 'optional'];
const TLS_EXAMPLE = 'an object such as {"certs": "/etc/ferry/certs", "alpn": ["h2", "http/1.1"]}';
const CERTS_EXAMPLE = 'a certificate directory or file such as "/etc/ferry/certs", or a non-empty list of them';
const ALPN_EXAMPLE = 'a non-empty list of protocol names such as ["h2", "http/1.1"]';
/** ALPN protocol names are 1 to 255 bytes on the wire; printable ASCII is all anyone registers. */
const ALPN_NAME = /^[\x21-\x7e]{1,255}$/;

export function checkTlsOption(value: unknown, address: BindAddress, text: string, at: PathSegment[]): Problem[] {
  const where = [...at, 'tls'];
  if (address.kind === 'udp') {
    return [problem(where, `TLS applies to TCP binds only, and ${JSON.stringify(text)} is a UDP address (ferry does not terminate DTLS or QUIC); remove "tls"`)];
  }
  if (!isRecord(value)) return [problem(where, expected(TLS_EXAMPLE, value))];
  const problems = Object.keys(value)
    .filter((key) => !(TLS_KEYS as readonly string[]).includes(key))
    .map((key) => problem([...where, key], unknownKey(key, TLS_KEYS)));
  if (value.certs === undefined) problems.push(problem([...where, 'certs'], `required key is missing (expected ${CERTS_EXAMPLE})`));
  else if (pathsOf(value.certs) === undefined) problems.push(problem([...where, 'certs'], expected(CERTS_EXAMPLE, value.certs)));
  if (value.alpn !== undefined) problems.push(...checkAlpn(value.alpn, [...where, 'alpn']));
  if (value.clientCa !== undefined && pathsOf(value.clientCa) === undefined) problems.push(problem([...where, 'clientCa'], expected('a CA file or directory such as "/etc/ferry/clients-ca.pem", or a non-empty list of them', value.clientCa)));
  if (value.verifyClient !== undefined && !VERIFY_CLIENT.includes(value.verifyClient as string)) problems.push(problem([...where, 'verifyClient'], expected('"required" or "optional"', value.verifyClient)));
  if (value.verifyClient !== undefined && value.clientCa === undefined) problems.push(problem([...where, 'verifyClient'], 'needs "clientCa", the CA that client certificates must chain to'));
  return problems;
}

/** The option of an entry that passed checkTlsOption. */
export function tlsOf(value: Record<string, unknown>): TlsConfig {
  return {
    certs: pathsOf(value.certs)!.map((p) => resolve(p)),
    alpn: (value.alpn as string[] | undefined) ?? [],
    ...(value.clientCa !== undefined && { clientCa: pathsOf(value.clientCa)!.map((p) => resolve(p)), verifyClient: (value.verifyClient as 'required' | 'optional' | undefined) ?? 'required' }),
    certificates: [],
  };
}

function pathsOf(value: unknown): string[] | undefined {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return list.every((p) => typeof p === 'string' && p !== '') ? (list as string[]) : undefined;
}

function checkAlpn(value: unknown, at: PathSegment[]): Problem[] {
  if (!Array.isArray(value) || value.length === 0) return [problem(at, expected(ALPN_EXAMPLE, value))];
  return value.flatMap((name, i) => {
    if (typeof name !== 'string' || !ALPN_NAME.test(name)) return [problem([...at, i], expected('a protocol name of 1 to 255 printable characters such as "h2"', name))];
    return value.indexOf(name) < i ? [problem([...at, i], `${JSON.stringify(name)} is listed twice`)] : [];
  });
}
