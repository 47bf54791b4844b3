// A frontend's "bind" value: one address string, or a list whose entries are address strings or
// objects carrying socket options. Problems come back with paths relative to the "bind" key.

import { bindKey, parseBindAddress } from './address';
import { expected, isRecord, problem, unknownKey, type PathSegment, type Problem } from './problems';
import { ACCESS_KEYS, accessOf, checkAccessOptions } from './socket-access';
import { checkTlsOption, tlsOf } from './tls';
import { checkShardSpec, unshardable } from './shards';
import type { BindAddress, BindConfig, ShardSpec, TlsConfig } from './types';

export interface ParsedBind {
  /** Where the entry sits below the "bind" key: [] for a lone string, [i] for a list entry. */
  at: PathSegment[];
  text: string;
  address: BindAddress;
  tls?: TlsConfig;
  acceptProxy?: true;
  /** The bind's own shards; absent: global.shards. */
  shards?: ShardSpec;
}

export interface BindList {
  binds: ParsedBind[];
  problems: Problem[];
}

const OPTION_KEYS = ['address', ...ACCESS_KEYS, 'v6only', 'tls', 'acceptProxy', 'shards'] as const;
const ADDRESS_EXAMPLE = 'a bind address such as "127.0.0.1:8080" or "unix@/run/ferry.sock"';

export function parseBindList(value: unknown): BindList {
  if (typeof value === 'string') return collect([parseEntry(value, [])]);
  if (!Array.isArray(value)) {
    return { binds: [], problems: [problem([], expected(`${ADDRESS_EXAMPLE}, or a list of them`, value))] };
  }
  if (value.length === 0) {
    return { binds: [], problems: [problem([], expected('at least one bind address', value))] };
  }
  return collect(value.map((entry, i) => parseEntry(entry, [i])));
}

/**
 * Binds to port 0 get a fresh port each time, so only their owner makes them the same socket.
 * `shards` is the count the bind's own spec (or else global.shards) comes to.
 */
export function toBindConfig(bind: ParsedBind, frontend: string, shards: number): BindConfig {
  const key = bindKey(bind.address);
  const ephemeral = (bind.address.kind === 'tcp' || bind.address.kind === 'udp') && bind.address.port === 0;
  const index = bind.at.length > 0 ? bind.at[0] : 0;
  return { text: bind.text, key: ephemeral ? `${key}#${frontend}[${index}]` : key, address: bind.address, ...(bind.tls && { tls: bind.tls }), ...(bind.acceptProxy && { acceptProxy: true as const }), ...(shards > 1 && { shards }) };
}

interface EntryResult {
  bind?: ParsedBind;
  problems: Problem[];
}

function collect(results: EntryResult[]): BindList {
  return {
    binds: results.flatMap((r) => (r.bind ? [r.bind] : [])),
    problems: results.flatMap((r) => r.problems),
  };
}

function parseEntry(entry: unknown, at: PathSegment[]): EntryResult {
  if (typeof entry === 'string') return parseText(entry, at, at);
  if (isRecord(entry)) return parseObject(entry, at);
  return { problems: [problem(at, expected(`${ADDRESS_EXAMPLE}, or an object with an "address"`, entry))] };
}

function parseText(text: string, at: PathSegment[], reportAt: PathSegment[]): EntryResult {
  const parsed = parseBindAddress(text);
  if (!parsed.ok) return { problems: [problem(reportAt, `${JSON.stringify(text)}: ${parsed.error}`)] };
  return { bind: { at, text, address: parsed.value }, problems: [] };
}

function parseObject(entry: Record<string, unknown>, at: PathSegment[]): EntryResult {
  const problems = Object.keys(entry)
    .filter((key) => !(OPTION_KEYS as readonly string[]).includes(key))
    .map((key) => problem([...at, key], unknownKey(key, OPTION_KEYS)));
  const base = parseObjectAddress(entry.address, at);
  problems.push(...base.problems);
  if (!base.bind) return { problems: [...problems, ...checkOptionTypes(entry, at)] };
  const withOptions = applyOptions(base.bind, entry, at);
  problems.push(...withOptions.problems);
  return problems.length === 0 ? withOptions : { problems };
}

function parseObjectAddress(address: unknown, at: PathSegment[]): EntryResult {
  const where = [...at, 'address'];
  if (address === undefined) return { problems: [problem(where, `required key is missing (expected ${ADDRESS_EXAMPLE})`)] };
  if (typeof address !== 'string') return { problems: [problem(where, expected(ADDRESS_EXAMPLE, address))] };
  return parseText(address, at, where);
}

/** Used when the address itself is unusable, so option values are still checked on their own. */
function checkOptionTypes(entry: Record<string, unknown>, at: PathSegment[]): Problem[] {
  const problems = checkAccessOptions(entry, at);
  if (entry.v6only !== undefined && typeof entry.v6only !== 'boolean') {
    problems.push(problem([...at, 'v6only'], expected('true or false', entry.v6only)));
  }
  if (entry.acceptProxy !== undefined && typeof entry.acceptProxy !== 'boolean') {
    problems.push(problem([...at, 'acceptProxy'], expected('true or false', entry.acceptProxy)));
  }
  if (entry.shards !== undefined) problems.push(...checkShardSpec(entry.shards, [...at, 'shards']));
  return problems;
}

function applyOptions(bind: ParsedBind, entry: Record<string, unknown>, at: PathSegment[]): EntryResult {
  const problems = checkOptionTypes(entry, at);
  problems.push(...checkOptionsFit(bind, entry, at));
  if (problems.length > 0) return { problems };
  const tls = entry.tls !== undefined && { tls: tlsOf(entry.tls as Record<string, unknown>) };
  const shards = entry.shards !== undefined && { shards: entry.shards as ShardSpec };
  return { bind: { ...bind, address: withOptions(bind.address, entry), ...tls, ...(entry.acceptProxy === true && { acceptProxy: true as const }), ...shards }, problems };
}

function checkOptionsFit(bind: ParsedBind, entry: Record<string, unknown>, at: PathSegment[]): Problem[] {
  const { address, text } = bind;
  const problems: Problem[] = [];
  for (const key of ACCESS_KEYS) {
    if (entry[key] !== undefined && address.kind !== 'unix') {
      problems.push(problem([...at, key], `"${key}" applies only to unix@ binds, and ${JSON.stringify(text)} is not one`));
    }
  }
  const isIPv6 = address.kind === 'tcp' && address.family === 6;
  if (entry.v6only !== undefined && !isIPv6) {
    problems.push(
      problem([...at, 'v6only'], `"v6only" applies only to IPv6 binds such as ":::8080", and ${JSON.stringify(text)} is not one`),
    );
  }
  if (entry.tls !== undefined) problems.push(...checkTlsOption(entry.tls, address, text, at));
  if (entry.acceptProxy === true && address.kind === 'udp') {
    problems.push(problem([...at, 'acceptProxy'], `the PROXY protocol applies to TCP binds only, and ${JSON.stringify(text)} is a UDP address; remove "acceptProxy"`));
  }
  if (entry.v6only === true && entry.shards !== undefined && entry.shards !== 1) {
    problems.push(problem([...at, 'shards'], `"shards" and "v6only" cannot be combined: shards are opened as dual-stack sockets; bind "::" without "v6only", or leave "shards" out`));
  }
  const whyNot = unshardable(address);
  if (entry.shards !== undefined && entry.shards !== 1 && whyNot !== undefined) {
    problems.push(problem([...at, 'shards'], `${JSON.stringify(text)} cannot have "shards": ${whyNot}; remove "shards"`));
  }
  return problems;
}

function withOptions(address: BindAddress, entry: Record<string, unknown>): BindAddress {
  if (address.kind === 'tcp') return { ...address, v6only: entry.v6only === true };
  return address.kind === 'unix' ? { ...address, ...accessOf(entry) } : address;
}
