import { readFileSync } from 'node:fs';

/** Node has no getpwnam(): names are looked up in the local account databases, numbers taken as is. */
function lookup(name: string, database: '/etc/passwd' | '/etc/group', what: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  for (const line of readFileSync(database, 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length > 2) return Number(fields[2]);
  }
  throw new Error(`unknown ${what} "${name}" (not in ${database}; give a name that exists or a numeric id)`);
}

export function resolveUser(name: string): number {
  return lookup(name, '/etc/passwd', 'user');
}

export function resolveGroup(name: string): number {
  return lookup(name, '/etc/group', 'group');
}
