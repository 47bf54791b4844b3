// Settings given outside the file: "--set path.to.key=value" arguments and FERRY_* environment
// variables. Each becomes an assignment that remembers its origin, so that a problem caused by
// an override can say which one.

import { closest } from '../lib/closest';
import { isRecord, type PathSegment } from './problems';
import { CONFIG_SCHEMA } from './schema';

export interface Assignment {
  /** How the user wrote it, e.g. "--set global.groups=4" or "FERRY_GLOBAL__GROUPS". */
  origin: string;
  path: string[];
  value: unknown;
}

export interface Overrides {
  assignments: Assignment[];
  problems: string[];
}

const ENV_PREFIX = 'FERRY_';
const ENV_SEPARATOR = '__';

export function parseSetArguments(sets: readonly string[]): Overrides {
  const assignments: Assignment[] = [];
  const problems: string[] = [];
  for (const set of sets) {
    const parsed = parseSet(set);
    if (typeof parsed === 'string') problems.push(parsed);
    else assignments.push(parsed);
  }
  return { assignments, problems };
}

function parseSet(set: string): Assignment | string {
  const origin = `--set ${set}`;
  const eq = set.indexOf('=');
  const path = eq > 0 ? set.slice(0, eq).split('.') : [];
  if (path.length === 0 || path.includes('')) {
    return `${origin}: expected KEY=VALUE with a dotted key, e.g. --set global.groups=4`;
  }
  return { origin, path, value: parseValue(set.slice(eq + 1)) };
}

/**
 * Only variables whose first segment names a top-level section are settings; other FERRY_* names
 * (FERRY_CONFIG, say) are left for the command line to use. A nested name with an unknown first
 * segment is still reported, since it can only be a misspelt setting.
 */
export function parseEnvironment(env: NodeJS.ProcessEnv): Overrides {
  const assignments: Assignment[] = [];
  const problems: string[] = [];
  // "$schema" is a note for editors in the file, not a setting.
  const sections = Object.keys(CONFIG_SCHEMA.properties as object).filter((key) => key !== '$schema');
  for (const name of Object.keys(env).filter((n) => n.startsWith(ENV_PREFIX)).sort()) {
    const segments = name.slice(ENV_PREFIX.length).split(ENV_SEPARATOR);
    const path = canonicalPath(segments);
    const known = sections.includes(path[0]);
    if (!known && segments.length > 1) {
      const meant = closest(segments[0], sections);
      const guess = meant === undefined ? '' : `, did you mean ${JSON.stringify(meant)}?`;
      problems.push(`${name}: unknown section "${segments[0]}"${guess} (expected one of: ${sections.join(', ')})`);
    } else if (known && segments.includes('')) {
      problems.push(`${name}: empty key between "${ENV_SEPARATOR}" separators`);
    } else if (known) {
      assignments.push({ origin: name, path, value: parseValue(env[name] ?? '') });
    }
  }
  return { assignments, problems: [...problems, ...findAmbiguities(assignments)] };
}

/** FERRY_global__groups and FERRY_GLOBAL__GROUPS name the same key; with both set, neither can win. */
function findAmbiguities(assignments: Assignment[]): string[] {
  const byPath = new Map<string, string[]>();
  for (const a of assignments) {
    const key = JSON.stringify(a.path);
    byPath.set(key, [...(byPath.get(key) ?? []), a.origin]);
  }
  return [...byPath.entries()]
    .filter(([, origins]) => origins.length > 1)
    .map(([key, origins]) => `${origins.join(' and ')} set the same key ${(JSON.parse(key) as string[]).join('.')}; keep only one`);
}

/**
 * Environment names are usually upper case, so segments are matched case-insensitively against the
 * schema's fixed keys; names the user chose (frontend, backend, server names) are kept as written.
 */
function canonicalPath(segments: string[]): string[] {
  let node: unknown = CONFIG_SCHEMA;
  return segments.map((segment) => {
    const properties = isRecord(node) && isRecord(node.properties) ? node.properties : {};
    const fixed = Object.keys(properties).find((k) => k.toLowerCase() === segment.toLowerCase());
    if (fixed !== undefined) {
      node = properties[fixed];
      return fixed;
    }
    node = isRecord(node) && isRecord(node.additionalProperties) ? node.additionalProperties : undefined;
    return segment;
  });
}

/** JSON when it parses, so numbers, booleans and lists come through typed; otherwise the raw text. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Later assignments win; shorter paths are applied first so that deeper ones refine them. */
export function assignmentsToObject(assignments: readonly Assignment[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const ordered = assignments.map((a, i) => ({ a, i }));
  ordered.sort((x, y) => x.a.path.length - y.a.path.length || x.i - y.i);
  for (const { a } of ordered) setIn(root, a.path, a.value);
  return root;
}

function setIn(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    node = isRecord(next) ? next : define(node, key, {});
  }
  define(node, path[path.length - 1], value);
}

/** defineProperty, because plain assignment to "__proto__" would replace the prototype instead. */
function define<T>(target: Record<string, unknown>, key: string, value: T): T {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}

/** The assignment responsible for a value at `path`: the one in effect, at the path or above it. */
export function findOrigin(assignments: readonly Assignment[], path: readonly PathSegment[]): Assignment | undefined {
  const matching = assignments.filter(
    (a) => a.path.length <= path.length && a.path.every((segment, i) => segment === String(path[i])),
  );
  return matching.sort((x, y) => x.path.length - y.path.length).pop();
}
