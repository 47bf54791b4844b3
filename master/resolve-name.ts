import { lookup, Resolver } from 'node:dns/promises';
import type { Parsed } from '../src/config/address';

/** How long one DNS query may wait for an answer, and how often it is sent, before the name fails. */
const QUERY_TIMEOUT_MS = 1_000;
const QUERY_TRIES = 2;

/** What the common resolver error codes mean, for people reading a problem or a log line. */
const MEANINGS: Record<string, string> = {
  ENOTFOUND: 'no such name',
  ENODATA: 'no address records',
  ETIMEOUT: 'no answer in time',
  ECONNREFUSED: 'connection refused',
  ESERVFAIL: 'server failure',
  EREFUSED: 'query refused',
  EAI_AGAIN: 'temporary failure',
};

/**
 * The addresses `host` has now. With `nameservers`, they are asked directly over DNS (A records,
 * AAAA when there are none); otherwise the system's resolver answers (getaddrinfo: /etc/hosts, then
 * DNS), as it does for any other program. The error says why the name does not resolve.
 */
export async function resolveName(host: string, nameservers: readonly string[] | undefined): Promise<Parsed<string[]>> {
  try {
    const addresses = nameservers === undefined ? await systemLookup(host) : await askNameservers(host, nameservers);
    return { ok: true, value: addresses };
  } catch (err) {
    return { ok: false, error: `cannot resolve ${JSON.stringify(host)}: ${explain(err as NodeJS.ErrnoException)} ${nameservers === undefined ? 'from the system resolver' : `at ${nameservers.join(', ')}`}` };
  }
}

async function systemLookup(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}

async function askNameservers(host: string, nameservers: readonly string[]): Promise<string[]> {
  const resolver = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: QUERY_TRIES });
  resolver.setServers(nameservers);
  try {
    return await resolver.resolve4(host);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENODATA') throw err;
    return resolver.resolve6(host);
  }
}

function explain(err: NodeJS.ErrnoException): string {
  const code = err.code ?? err.message;
  const meaning = MEANINGS[code];
  return meaning === undefined ? code : `${code} (${meaning})`;
}
