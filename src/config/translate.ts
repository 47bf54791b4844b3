// Turns ajv's error objects into ferry's one-line problems. ajv's own wording ("must NOT have
// additional properties") never reaches the user: each keyword maps to a sentence built from the
// failing node's description.

import type { ErrorObject } from 'ajv';
import { expected, isRecord, problem, unknownKey, type PathSegment, type Problem } from './problems';

export function translateErrors(errors: readonly ErrorObject[], root: unknown): Problem[] {
  return errors.map((e) => translate(e, pointerToPath(e.instancePath, root)));
}

function translate(e: ErrorObject, at: PathSegment[]): Problem {
  const params = e.params as Record<string, unknown>;
  if (typeof params.message === 'string') return problem(at, params.message);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      return problem([...at, key], unknownKey(key, propertyNames(e.parentSchema)));
    }
    case 'required':
      return missing(e, at, String(params.missingProperty));
    default:
      return problem(at, expected(describe(e), e.data));
  }
}

function missing(e: ErrorObject, at: PathSegment[], key: string): Problem {
  const member = propertySchema(e.parentSchema, key);
  const what = typeof member?.description === 'string' ? ` (expected ${member.description})` : '';
  return problem([...at, key], `required key is missing${what}`);
}

function describe(e: ErrorObject): string {
  const own = e.parentSchema?.description;
  if (typeof own === 'string') return own;
  // Only reachable if a schema node lacks a description; still better than ajv's phrasing.
  return `a value satisfying "${e.keyword}"`;
}

function propertyNames(schema: unknown): string[] {
  return isRecord(schema) && isRecord(schema.properties) ? Object.keys(schema.properties) : [];
}

function propertySchema(schema: unknown, key: string): Record<string, unknown> | undefined {
  if (!isRecord(schema) || !isRecord(schema.properties)) return undefined;
  const member = schema.properties[key];
  return isRecord(member) ? member : undefined;
}

/** Walks the data alongside the pointer, because only the data knows whether "1" is an index or a name. */
export function pointerToPath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const isIndex = Array.isArray(node);
    path.push(isIndex ? Number(segment) : segment);
    node = isIndex || isRecord(node) ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return path;
}
