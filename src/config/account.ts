// A user or a group as the configuration names it: a name, or a numeric id (a number, or digits in
// a string, which is what --set and FERRY_* variables give).

import { isId, resolveGroup, resolveUser } from '../os/ids';
import { expected, problem, type PathSegment, type Problem } from './problems';

export type AccountKind = 'user' | 'group';

/** (uid_t)-1 means "leave unchanged" to setuid() and chown(), so it names nobody. */
const MAX_ID = 4294967294;

export function accountExample(kind: AccountKind): string {
  return `a ${kind} name or a numeric id, such as "ferry" or 1000`;
}

/** The account in the form src/ids.ts looks up, or undefined when the value cannot name one. */
export function accountText(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= MAX_ID ? String(v) : undefined;
  if (typeof v !== 'string' || v.length === 0) return undefined;
  return isId(v) && Number(v) > MAX_ID ? undefined : v;
}

/** Absent is fine; anything else must be able to name an account. */
export function checkAccountSyntax(v: unknown, at: PathSegment[], kind: AccountKind): Problem[] {
  return v === undefined || accountText(v) !== undefined ? [] : [problem(at, expected(accountExample(kind), v))];
}

/**
 * A name must exist on this host. A numeric id need not: containers often run under ids that no
 * account has. Values the schema refused are skipped here.
 */
export function checkAccountExists(v: unknown, at: PathSegment[], kind: AccountKind): Problem[] {
  const text = accountText(v);
  if (text === undefined) return [];
  try {
    (kind === 'user' ? resolveUser : resolveGroup)(text);
    return [];
  } catch (err) {
    return [problem(at, (err as Error).message)];
  }
}
