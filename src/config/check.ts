// Health check settings. A backend's `check` applies to every one of its servers; a server's own
// `check` refines it key by key, or turns checks off (false) or on (true). Defaults fill in what
// neither says, after merging, so that a server's section never resets its backend's settings.
import { parseDuration } from './duration';
import { isRecord, problem, type PathSegment, type Problem } from './problems';
import type { CheckConfig, HttpCheckConfig } from './types';

export const CHECK_DEFAULTS = { type: 'tcp', interval: '2s', timeout: '1s', rise: 2, fall: 3 } as const;
export const HTTP_CHECK_DEFAULTS = { method: 'GET', path: '/', status: '200-399' } as const;
export const STATUS_EXAMPLE = 'an HTTP status such as 200, or a range such as "200-399"';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The check a server runs, from its backend's `check` and its own; undefined when it runs none. */
export function checkOf(backend: unknown, server: unknown): CheckConfig | undefined {
  if (server === false || (server === undefined && (backend === undefined || backend === false))) return undefined;
  const layers = [backend, server].filter(isRecord) as Raw[];
  const raw: Raw = Object.assign({}, CHECK_DEFAULTS, ...layers);
  const check: CheckConfig = {
    type: raw.type,
    interval: parseDuration(raw.interval)!,
    timeout: parseDuration(raw.timeout)!,
    rise: raw.rise,
    fall: raw.fall,
  };
  if (check.type === 'http') check.http = httpCheckOf(layers);
  if (raw.observe !== undefined) check.observe = { failures: raw.observe.failures };
  return check;
}

function httpCheckOf(layers: Raw[]): HttpCheckConfig {
  const raw: Raw = Object.assign({}, HTTP_CHECK_DEFAULTS, ...layers.map((l) => l.http).filter(isRecord));
  return { method: raw.method, path: raw.path, ...(raw.host !== undefined && { host: raw.host }), status: parseStatusRange(raw.status)! };
}

/** 200, "200" or "200-399"; undefined for anything else. */
export function parseStatusRange(v: unknown): { min: number; max: number } | undefined {
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string') return undefined;
  const m = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/.exec(text);
  if (m === null) return undefined;
  const range = { min: Number(m[1]), max: Number(m[2] ?? m[1]) };
  return range.min <= range.max ? range : undefined;
}

/**
 * HTTP settings in a check that is not an HTTP check would be ignored silently. A server's check
 * is an HTTP check when it or its backend's says so.
 */
export function checkHttpWithoutType(at: PathSegment[], backend: Raw): Problem[] {
  const problems: Problem[] = [];
  const own = isRecord(backend.check) ? backend.check : {};
  if (own.http !== undefined && own.type !== 'http') problems.push(problem([...at, 'check', 'http'], HTTP_ONLY));
  const servers = isRecord(backend.servers) ? backend.servers : {};
  for (const [name, server] of Object.entries(servers)) {
    const check = isRecord(server) && isRecord(server.check) ? server.check : {};
    if (check.http !== undefined && (check.type ?? own.type) !== 'http') problems.push(problem([...at, 'servers', name, 'check', 'http'], HTTP_ONLY));
  }
  return problems;
}

const HTTP_ONLY = 'HTTP settings apply to HTTP checks only: add "type": "http" to this check';
