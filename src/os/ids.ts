import { readFileSync } from 'node:fs';

/** A user's entry in /etc/passwd. */
export interface Account {
  name: string;
  uid: number;
  /** The user's primary group. */
  gid: number;
}

type Database = '/etc/passwd' | '/etc/group';

/** Node has no getpwnam(): names are looked up in the local account databases, numbers taken as is. */
function lookup(name: string, database: Database, what: string): number {
  if (isId(name)) return Number(name);
  const entry = entries(database).find((fields) => fields[0] === name);
  if (entry === undefined) throw new Error(`unknown ${what} "${name}" (not in ${database}; give a name that exists or a numeric id)`);
  return Number(entry[2]);
}

/** Entries with at least a name, a password field and an id. */
function entries(database: Database): string[][] {
  return readFileSync(database, 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length > 2);
}

/** Digits only: a numeric uid or gid rather than a name. */
export function isId(name: string): boolean {
  return /^\d+$/.test(name);
}

export function resolveUser(name: string): number {
  return lookup(name, '/etc/passwd', 'user');
}

export function resolveGroup(name: string): number {
  return lookup(name, '/etc/group', 'group');
}

/** The account of a user name or a numeric uid, when /etc/passwd has one. */
export function findAccount(user: string): Account | undefined {
  const matches = isId(user) ? (fields: string[]) => Number(fields[2]) === Number(user) : (fields: string[]) => fields[0] === user;
  const entry = entries('/etc/passwd').find((fields) => fields.length > 3 && matches(fields));
  return entry && { name: entry[0], uid: Number(entry[2]), gid: Number(entry[3]) };
}
