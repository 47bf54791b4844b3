import type { Backend } from '../backend/backend';
import type { RuleCondition, RuleConfig } from '../config/types';
import type { RequestRouter, RoutedRequest } from '../stream/request-router-t';
import { pathStart, targetAuthority } from '../lib/target';

/** One rule, compiled: every test given must pass. */
interface Route {
  /** Exact host, lower case; or, with `wildcard`, the suffix ".example.com" after exactly one label. */
  host: string | undefined;
  wildcard: boolean;
  pathPrefix: string | undefined;
  header: { name: string; value: string } | undefined;
  backend: Backend;
}

/**
 * Chooses the backend of each request of an HTTP frontend: its rules in order, the first that
 * matches wins, else the frontend's backend. Rules are compiled once per thread, with the
 * backends resolved; a request costs at most its host in lower case.
 */
export class Router implements RequestRouter {
  private readonly routes: Route[];
  /** Some rule looks at the host: only then is it read. */
  private readonly readsHost: boolean;

  constructor(
    rules: readonly RuleConfig[],
    backends: ReadonlyMap<string, Backend>,
    private readonly fallback: Backend,
  ) {
    this.routes = rules.map((r) => compile(r.if, backends.get(r.backend)!));
    this.readsHost = this.routes.some((r) => r.host !== undefined);
  }

  route(req: RoutedRequest): Backend {
    const host = this.readsHost ? hostOf(req) : '';
    for (const r of this.routes) if (matches(r, req, host)) return r.backend;
    return this.fallback;
  }
}

function compile(condition: RuleCondition, backend: Backend): Route {
  const wildcard = condition.host?.startsWith('*.') ?? false;
  return { host: wildcard ? condition.host!.slice(1) : condition.host, wildcard, pathPrefix: condition.pathPrefix, header: condition.header, backend };
}

function matches(r: Route, req: RoutedRequest, host: string): boolean {
  if (r.host !== undefined && !(r.wildcard ? oneLabelBefore(host, r.host) : host === r.host)) return false;
  if (r.pathPrefix !== undefined && !req.target.startsWith(r.pathPrefix, pathStart(req.target))) return false;
  return r.header === undefined || hasField(req, r.header.name, r.header.value);
}

/** `host` is one label (no dot) followed by `suffix` (".example.com"). */
function oneLabelBefore(host: string, suffix: string): boolean {
  const label = host.length - suffix.length;
  return label > 0 && host.endsWith(suffix) && host.lastIndexOf('.', label - 1) === -1;
}

function hasField(req: RoutedRequest, name: string, value: string): boolean {
  const { fields } = req;
  for (let i = 0; i < fields.length; i++) if (fields.name(i) === name && fields.value(i) === value) return true;
  return false;
}

/**
 * The host the request is for, lower case, without port or trailing dot: the authority of an
 * absolute-form target, else the Host field ('' when there is none, as HTTP/1.0 allows).
 */
export function hostOf(req: RoutedRequest): string {
  const authority = targetAuthority(req.target) ?? req.fields.get('host') ?? '';
  let end = authority.length;
  // A port follows the last colon, unless that colon is inside an IPv6 literal ("[::1]").
  const colon = authority.lastIndexOf(':');
  if (colon !== -1 && colon > authority.lastIndexOf(']')) end = colon;
  if (end > 0 && authority.charCodeAt(end - 1) === 0x2e) end--;
  const host = end === authority.length ? authority : authority.slice(0, end);
  return host.toLowerCase();
}
