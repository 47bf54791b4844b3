// A backend must speak its frontends' mode: the TCP services (echo, hello) take over a connection,
// the HTTP services (health, return) and the request hashes (uri, hdr) need HTTP requests. A backend
// is used by its frontends' `backend` and by the backends their rules name.

import { isRecord, problem, type PathSegment, type Problem } from './problems';

const TCP_SERVICES = ['echo', 'hello'];

interface Use {
  at: PathSegment[];
  name: string;
}

export function checkBackendModes(name: string, frontend: unknown, backends: Record<string, unknown>): Problem[] {
  if (!isRecord(frontend)) return [];
  const mode = frontend.mode ?? 'tcp';
  if (mode !== 'tcp' && mode !== 'udp' && mode !== 'http') return [];
  return usesOf(name, frontend).flatMap((use) => {
    const backend = Object.hasOwn(backends, use.name) ? backends[use.name] : undefined;
    return isRecord(backend) ? checkUse(name, mode, use, backend) : [];
  });
}

function usesOf(name: string, frontend: Record<string, unknown>): Use[] {
  const uses: Use[] = typeof frontend.backend === 'string' ? [{ at: ['frontends', name, 'backend'], name: frontend.backend }] : [];
  if (!Array.isArray(frontend.rules)) return uses;
  frontend.rules.forEach((rule, i) => {
    if (isRecord(rule) && typeof rule.backend === 'string') uses.push({ at: ['frontends', name, 'rules', i, 'backend'], name: rule.backend });
  });
  return uses;
}

function checkUse(frontend: string, mode: string, use: Use, backend: Record<string, unknown>): Problem[] {
  const quoted = JSON.stringify(use.name);
  const service = backend.service;
  if (mode !== 'tcp' && typeof service === 'string' && TCP_SERVICES.includes(service)) {
    return [problem(use.at, `backend ${quoted} runs the built-in service ${JSON.stringify(service)}, which speaks TCP; ${mode === 'udp' ? 'a UDP' : 'an HTTP'} frontend needs a backend with "servers"${mode === 'http' ? ', a "return", "service": "health" or "service": "stats"' : ''}`)];
  }
  if (mode === 'http') return [];
  const answers = service === 'health' || service === 'stats' ? `runs the built-in service "${service}"` : backend.return !== undefined ? 'has "return"' : undefined;
  if (answers !== undefined) return [problem(use.at, `backend ${quoted} ${answers}, which answers HTTP requests; frontend ${JSON.stringify(frontend)} needs "mode": "http" for it`)];
  const balance = backend.balance;
  if (typeof balance === 'string' && /^(uri|hdr)\b/.test(balance)) {
    return [problem(['backends', use.name, 'balance'], `${JSON.stringify(balance)} hashes HTTP requests, and frontend ${JSON.stringify(frontend)} (mode ${mode}) uses this backend; use the backend only from HTTP frontends, or balance by "source" to keep each client on one server`)];
  }
  return [];
}
