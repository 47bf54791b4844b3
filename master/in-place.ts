import type { Config } from '../src/config/types';

/**
 * Why a reload from `old` to `next` needs new worker processes, or undefined when the running
 * workers can take the new configuration in place (a new generation of stacks in each thread, which
 * takes the sessions over in memory: no process to start, no code to load and compile again).
 * Processes are needed when the shape of the service changes, when the workers would run as someone
 * else or log otherwise, and where UDP flows are involved (their hand-over goes through the master).
 */
export function needsProcesses(old: Config, next: Config): string | undefined {
  const [a, b] = [old.global, next.global];
  if (a.groups !== b.groups || a.threads !== b.threads) return 'groups or threads change';
  if (JSON.stringify(a.runAs) !== JSON.stringify(b.runAs)) return 'the workers run as another user or group';
  // A worker's threads keep one log destination for every generation they run.
  if (JSON.stringify(a.log) !== JSON.stringify(b.log)) return 'the log settings change';
  const udp = (c: Config): boolean => Object.values(c.frontends).some((f) => f.mode === 'udp');
  if (udp(old) || udp(next)) return 'a UDP frontend';
  return undefined;
}
