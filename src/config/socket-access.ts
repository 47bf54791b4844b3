// Who may use a Unix socket file: its mode, owner and group. unix@ binds and the master CLI socket
// (global.masterSocketAccess) take the same options, parsed here.

import { accountText, checkAccountExists, checkAccountSyntax } from './account';
import { expected, isRecord, problem, unknownKey, type PathSegment, type Problem } from './problems';
import type { SocketAccess } from './types';

export const ACCESS_KEYS = ['mode', 'user', 'group'] as const;

const MODE_EXAMPLE = 'a file mode such as "0660" (octal, in a string) or 432';
/** Permission bits only: setuid and friends mean nothing on a socket, and a decimal 660 lands above this. */
const MAX_MODE = 0o777;

/** The values of mode, user and group in `entry`, wherever it sits (`at`); other keys are the caller's. */
export function checkAccessOptions(entry: Record<string, unknown>, at: PathSegment[]): Problem[] {
  const problems = entry.mode !== undefined && parseMode(entry.mode) === undefined ? [problem([...at, 'mode'], expected(MODE_EXAMPLE, entry.mode))] : [];
  return [...problems, ...checkAccountSyntax(entry.user, [...at, 'user'], 'user'), ...checkAccountSyntax(entry.group, [...at, 'group'], 'group')];
}

/** A whole access object, such as global.masterSocketAccess: only the access keys are allowed. */
export function checkSocketAccess(value: unknown): Problem[] {
  if (!isRecord(value)) return [problem([], expected('an object with the keys mode, user, group, such as {"mode": "0660", "group": "adm"}', value))];
  const unknown = Object.keys(value)
    .filter((key) => !(ACCESS_KEYS as readonly string[]).includes(key))
    .map((key) => problem([key], unknownKey(key, ACCESS_KEYS)));
  return [...unknown, ...checkAccessOptions(value, [])];
}

/** The user and group must exist on this host (checked when the configuration is read, not at bind time). */
export function checkAccessAccounts(entry: Record<string, unknown>, at: PathSegment[]): Problem[] {
  return [...checkAccountExists(entry.user, [...at, 'user'], 'user'), ...checkAccountExists(entry.group, [...at, 'group'], 'group')];
}

/** The options of an entry that passed checkAccessOptions. */
export function accessOf(entry: Record<string, unknown>): SocketAccess {
  const mode = parseMode(entry.mode);
  const user = accountText(entry.user);
  const group = accountText(entry.group);
  return { ...(mode !== undefined && { mode }), ...(user !== undefined && { user }), ...(group !== undefined && { group }) };
}

function parseMode(v: unknown): number | undefined {
  const mode = typeof v === 'string' && /^[0-7]{3,4}$/.test(v) ? parseInt(v, 8) : v;
  return typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= MAX_MODE ? mode : undefined;
}
