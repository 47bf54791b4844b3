// Checks that span more than one value, which the schema cannot express. They run even when the
// schema found problems, so that one run lists everything; anything of the wrong type is skipped
// here because the schema already reported it.

import { checkHttpWithoutType } from './check';
import { findBindConflicts } from './conflicts';
import { checkHttpOptions } from './http-options';
import { checkModeBinds, checkServiceBackend } from './mode';
import { isRecord, problem, type Problem } from './problems';
import { runAsOf } from './run-as';
import { NAME_PATTERN } from './schema';
import { checkAccessAccounts } from './socket-access';
import { checkUdpOptions } from './udp-options';

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
    ...Object.entries(backends).flatMap(([name, b]) => checkBackend(name, b)),
    ...Object.entries(frontends).flatMap(([name, f]) => checkBackendReference(name, f, backends)),
    ...Object.entries(frontends).flatMap(([name, f]) => [...checkModeBinds(name, f), ...checkServiceBackend(name, f, backends), ...checkUdpOptions(name, f), ...checkHttpOptions(name, f)]),
    ...findBindConflicts(frontends),
  ];
}

function checkNames(at: string[], map: Record<string, unknown>): Problem[] {
  return Object.keys(map)
    .filter((name) => !NAME_PATTERN.test(name))
    .map((name) => problem([...at, name], `invalid name ${JSON.stringify(name)} (${NAME_RULE})`));
}

function checkBackend(name: string, backend: unknown): Problem[] {
  if (!isRecord(backend)) return [];
  const at = ['backends', name];
  const hasServers = backend.servers !== undefined;
  const hasService = backend.service !== undefined;
  const problems = isRecord(backend.servers) ? checkNames([...at, 'servers'], backend.servers) : [];
  problems.push(...checkHttpWithoutType(at, backend));
  if (hasServers && hasService) {
    problems.push(problem(at, 'has both "servers" and "service"; a backend forwards to servers or runs a built-in service, not both'));
  } else if (!hasServers && !hasService) {
    problems.push(
      problem(at, 'needs "servers" (e.g. {"s1": {"address": "127.0.0.1:9000"}}) or "service" ("echo" or "hello")'),
    );
  }
  return problems;
}

function checkBackendReference(name: string, frontend: unknown, backends: Record<string, unknown>): Problem[] {
  if (!isRecord(frontend) || typeof frontend.backend !== 'string' || frontend.backend === '') return [];
  if (Object.hasOwn(backends, frontend.backend)) return [];
  const defined = Object.keys(backends);
  const known = defined.length > 0 ? `defined: ${defined.join(', ')}` : 'no backends are defined';
  return [problem(['frontends', name, 'backend'], `no backend named ${JSON.stringify(frontend.backend)} (${known})`)];
}
