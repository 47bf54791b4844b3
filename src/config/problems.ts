// A problem is kept structured (a key path plus a sentence) until the very end, so that the loader
// can still tell which override produced it before everything becomes one line of text.

import { closest } from '../lib/closest';

export type PathSegment = string | number;

export interface Problem {
  path: PathSegment[];
  message: string;
}

const PLAIN_KEY = /^[$A-Za-z0-9_-]+$/;
const MAX_VALUE_CHARS = 60;

export function problem(path: PathSegment[], message: string): Problem {
  return { path, message };
}

/** Names may contain dots, so anything unusual is bracketed to keep the path unambiguous. */
export function formatPath(path: PathSegment[]): string {
  if (path.length === 0) return '(top level)';
  return path.map(formatSegment).join('').replace(/^\./, '');
}

function formatSegment(segment: PathSegment): string {
  if (typeof segment === 'number') return `[${segment}]`;
  return PLAIN_KEY.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
}

export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= MAX_VALUE_CHARS ? text : `${text.slice(0, MAX_VALUE_CHARS - 3)}...`;
}

export function formatProblem(p: Problem): string {
  return `${formatPath(p.path)}: ${p.message}`;
}

export function expected(what: string, found: unknown): string {
  return `expected ${what}, found ${formatValue(found)}`;
}

/** Keys people write for notes in formats without comments. */
const NOTE_KEY = /^(_|\/\/|#)|^(comments?|notes?)$/i;

/** Names the key meant when the unknown one is a likely typo of a key of the same object. */
export function unknownKey(key: string, allowed: readonly string[]): string {
  const list = `(expected one of: ${allowed.join(', ')})`;
  if (key === '$schema') return `unknown key: "$schema" is only read at the top level of the file ${list}`;
  if (NOTE_KEY.test(key)) return `unknown key: for a note, or to leave a key out, write a // or /* */ comment, which the file allows ${list}`;
  const meant = closest(key, allowed);
  if (meant !== undefined) return `unknown key, did you mean ${JSON.stringify(meant)}? ${list}`;
  return `unknown key ${list}`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
