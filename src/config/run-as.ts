// global.user and global.group: who the workers run as, resolved to ids on this host when the
// configuration is read, so that a name that does not exist is a configuration problem.

import { findAccount, resolveGroup } from '../os/ids';
import { accountText, checkAccountExists } from './account';
import { isRecord, problem, type Problem } from './problems';
import type { RunAs } from './types';

export interface RunAsResult {
  runAs?: RunAs;
  problems: Problem[];
}

/** Values of the wrong type were reported by the schema and give neither a RunAs nor a problem here. */
export function runAsOf(global: unknown): RunAsResult {
  if (!isRecord(global)) return { problems: [] };
  const user = accountText(global.user);
  const group = accountText(global.group);
  if (user === undefined) {
    if (global.user !== undefined || group === undefined) return { problems: [] };
    // A worker that stays root could simply change its group back.
    return { problems: [problem(['global', 'group'], 'needs global.user too (workers that stay root could change their group back): set global.user, or remove global.group')] };
  }
  const problems = [...checkAccountExists(user, ['global', 'user'], 'user'), ...checkAccountExists(group, ['global', 'group'], 'group')];
  if (problems.length > 0) return { problems };
  const account = findAccount(user);
  const gid = group !== undefined ? resolveGroup(group) : account?.gid;
  if (gid === undefined) {
    return { problems: [problem(['global', 'group'], `required when global.user is an id that no account has (${user}): there is no primary group to take; set global.group`)] };
  }
  const uid = account?.uid ?? Number(user);
  return { runAs: { user, ...(group !== undefined && { group }), uid, gid, ...(account !== undefined && { account: account.name }) }, problems: [] };
}

/** For messages: `user "nobody" (uid 65534), group "nogroup" (gid 65534)`. */
export function describeRunAs(runAs: RunAs): string {
  const group = runAs.group === undefined ? `its primary group (gid ${runAs.gid})` : `group ${JSON.stringify(runAs.group)} (gid ${runAs.gid})`;
  return `user ${JSON.stringify(runAs.user)} (uid ${runAs.uid}), ${group}`;
}
