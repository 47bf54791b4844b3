// HTTP routing rules of a frontend and the `return` backend: their schema, the checks the schema
// cannot express, and their normalized form. Plain schema objects here: schema.ts imports this file.

import { isRecord, problem, type Problem } from './problems';
import type { ReturnConfig, RuleCondition, RuleConfig } from './types';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CONDITIONS = ['host', 'pathPrefix', 'header'] as const;
const TOKEN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
const FIELD_VALUE = '^[\\x20-\\x7e\\t]*$';
/** Fields the proxy writes itself on a `return` response: the framing and the connection's fate. */
const FRAMING_FIELDS = ['content-length', 'transfer-encoding', 'connection', 'keep-alive'];

function object(properties: Record<string, object>, required: string[], description: string): object {
  return { type: 'object', properties, required, additionalProperties: false, description };
}

const CONDITION_SCHEMA = object(
  {
    host: { type: 'string', pattern: '^(\\*\\.)?[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', description: 'a host name without port, such as "api.example.com" or "*.example.com"' },
    pathPrefix: { type: 'string', pattern: '^/[\\x21-\\x7e]*$', description: 'a path prefix that starts with "/", without spaces, such as "/static/"' },
    header: object(
      { name: { type: 'string', pattern: TOKEN, description: 'a header field name such as "x-canary"' }, value: { type: 'string', pattern: FIELD_VALUE, description: 'a header value of printable ASCII characters' } },
      ['name', 'value'],
      'an object with the keys name, value',
    ),
  },
  [],
  'an object with one or more of the keys host, pathPrefix, header',
);

export const RULES_SCHEMA = {
  type: 'array',
  items: object({ if: CONDITION_SCHEMA, backend: { type: 'string', minLength: 1, description: 'the name of a backend' } }, ['if', 'backend'], 'an object with the keys if, backend'),
  description: 'a list of rules such as [{"if": {"pathPrefix": "/api/"}, "backend": "api"}]',
};

export const RETURN_SCHEMA = object(
  {
    status: { type: 'integer', minimum: 200, maximum: 599, description: 'an HTTP status from 200 to 599' },
    headers: { type: 'object', additionalProperties: { type: 'string', pattern: FIELD_VALUE, description: 'a header value of printable ASCII characters' }, description: 'a map of header names to values, such as {"content-type": "text/plain"}' },
    body: { type: 'string', description: 'the body as a string' },
  },
  ['status'],
  'an object with the keys status, headers, body',
);

/** Rules need HTTP requests; each needs a condition and a backend that exists. */
export function checkRules(name: string, frontend: unknown, backends: Record<string, unknown>): Problem[] {
  if (!isRecord(frontend) || frontend.rules === undefined) return [];
  const at = ['frontends', name, 'rules'];
  if (frontend.mode !== 'http') return [problem(at, 'routing rules choose a backend per HTTP request; they need "mode": "http"')];
  if (!Array.isArray(frontend.rules)) return [];
  return frontend.rules.flatMap((rule, i) => {
    if (!isRecord(rule)) return [];
    const problems: Problem[] = [];
    if (isRecord(rule.if) && Object.keys(rule.if).length === 0) {
      problems.push(problem([...at, i, 'if'], `is empty; give one or more of ${CONDITIONS.join(', ')} (all given must hold)`));
    }
    if (typeof rule.backend === 'string' && rule.backend !== '' && !Object.hasOwn(backends, rule.backend)) {
      problems.push(problem([...at, i, 'backend'], noBackend(rule.backend, backends)));
    }
    return problems;
  });
}

export function noBackend(name: string, backends: Record<string, unknown>): string {
  const defined = Object.keys(backends);
  return `no backend named ${JSON.stringify(name)} (${defined.length > 0 ? `defined: ${defined.join(', ')}` : 'no backends are defined'})`;
}

/** A `return` writes its own framing, and 204 and 304 have no body. */
export function checkReturn(name: string, backend: unknown): Problem[] {
  if (!isRecord(backend) || !isRecord(backend.return)) return [];
  const at = ['backends', name, 'return'];
  const { status, headers, body } = backend.return;
  const problems: Problem[] = [];
  for (const field of Object.keys(isRecord(headers) ? headers : {})) {
    if (!new RegExp(TOKEN).test(field)) problems.push(problem([...at, 'headers', field], 'is not a header field name (letters, digits and !#$%&\'*+.^_`|~-)'));
    else if (FRAMING_FIELDS.includes(field.toLowerCase())) problems.push(problem([...at, 'headers', field], 'is written by ferry itself (it frames the body and keeps or closes the connection); leave it out'));
  }
  if ((status === 204 || status === 304) && typeof body === 'string' && body !== '') problems.push(problem([...at, 'body'], `a ${status} response has no body; leave "body" out or choose another status`));
  return problems;
}

export function rulesOf(raw: Raw[]): RuleConfig[] {
  return raw.map((r) => ({ if: conditionOf(r.if), backend: r.backend }));
}

function conditionOf(raw: Raw): RuleCondition {
  return {
    ...(raw.host !== undefined && { host: (raw.host as string).toLowerCase() }),
    ...(raw.pathPrefix !== undefined && { pathPrefix: raw.pathPrefix }),
    ...(raw.header !== undefined && { header: { name: (raw.header.name as string).toLowerCase(), value: raw.header.value } }),
  };
}

export function returnOf(raw: Raw): ReturnConfig {
  return { status: raw.status, headers: Object.entries((raw.headers ?? {}) as Record<string, string>), body: raw.body ?? '' };
}
