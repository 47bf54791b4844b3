// Checks that span more than one value, which the schema cannot express. They run even when the
// schema found problems, so that one run lists everything; anything of the wrong type is skipped
// here because the schema already reported it.

import { checkHttpWithoutType } from './check';
import { findBindConflicts } from './conflicts';
import { checkHttpOptions } from './http-options';
import { checkBackendModes } from './backend-mode';
import { checkModeBinds } from './mode';
import { isRecord, problem, type Problem } from './problems';
import { runAsOf } from './run-as';
import { NAME_PATTERN } from './schema';
import { checkReturn, checkRules, noBackend } from './rules';
import { checkAccessAccounts } from './socket-access';
import { checkUdpOptions } from './udp-options';
import { parseBindList } from './bind';
import { checkShardFit } from './shards';

/** What a backend answers with: exactly one of these. */
const ANSWERS = ['servers', 'service', 'return'] as const;

const NAME_RULE = 'names may contain only letters, digits, "_", "." and "-"';

export function checkSemantics(data: unknown): Problem[] {
  if (!isRecord(data)) return [];
  const frontends = isRecord(data.frontends) ? data.frontends : {};
  const backends = isRecord(data.backends) ? data.backends : {};
  const global = isRecord(data.global) ? data.global : {};
  return [
    ...runAsOf(global).problems,
    ...(isRecord(global.masterSocketAccess) ? checkAccessAccounts(global.masterSocketAccess, ['global', 'masterSocketAccess']) : []),
    ...checkNames(['frontends'], frontends),
    ...checkNames(['backends'], backends),
    ...Object.entries(backends).flatMap(([name, b]) => [...checkBackend(name, b), ...checkReturn(name, b)]),
    ...Object.entries(frontends).flatMap(([name, f]) => checkBackendReference(name, f, backends)),
    ...Object.entries(frontends).flatMap(([name, f]) => [...checkModeBinds(name, f), ...checkRules(name, f, backends), ...checkBackendModes(name, f, backends), ...checkUdpOptions(name, f), ...checkHttpOptions(name, f)]),
    ...findBindConflicts(frontends),
    ...checkShardCounts(global, frontends),
  ];
}

function checkShardCounts(global: Record<string, unknown>, frontends: Record<string, unknown>): Problem[] {
  const groups = global.groups ?? 1;
  const threads = global.threads ?? 1;
  // Counts the schema refuses are reported there, not compared here.
  if (!validCount(groups) || !validCount(threads)) return [];
  const binds = Object.entries(frontends).flatMap(([name, f]) => (isRecord(f) ? parseBindList(f.bind).binds.map((b) => ({ b, at: ['frontends', name, 'bind', ...b.at, 'shards'] })) : []));
  return [...checkShardFit(global.shards, groups, threads, ['global', 'shards']), ...binds.flatMap(({ b, at }) => checkShardFit(b.shards, groups, threads, at))];
}

function checkNames(at: string[], map: Record<string, unknown>): Problem[] {
  return Object.keys(map)
    .filter((name) => !NAME_PATTERN.test(name))
    .map((name) => problem([...at, name], `invalid name ${JSON.stringify(name)} (${NAME_RULE})`));
}

function checkBackend(name: string, backend: unknown): Problem[] {
  if (!isRecord(backend)) return [];
  const at = ['backends', name];
  const given = ANSWERS.filter((key) => backend[key] !== undefined);
  const problems = isRecord(backend.servers) ? checkNames([...at, 'servers'], backend.servers) : [];
  problems.push(...checkHttpWithoutType(at, backend));
  if (given.length > 1) {
    problems.push(problem(at, `has ${given.map((k) => JSON.stringify(k)).join(' and ')}; a backend forwards to servers, runs a built-in service or returns a fixed response: one of them`));
  } else if (given.length === 0) {
    problems.push(
      problem(at, 'needs "servers" (e.g. {"s1": {"address": "127.0.0.1:9000"}}), "service" ("echo" or "hello" for TCP, "health" for HTTP) or "return" (HTTP, e.g. {"status": 404})'),
    );
  }
  return problems;
}

function checkBackendReference(name: string, frontend: unknown, backends: Record<string, unknown>): Problem[] {
  if (!isRecord(frontend) || typeof frontend.backend !== 'string' || frontend.backend === '') return [];
  if (Object.hasOwn(backends, frontend.backend)) return [];
  return [problem(['frontends', name, 'backend'], noBackend(frontend.backend, backends))];
}

function validCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 64;
}
