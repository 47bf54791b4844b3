import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's optimizing compilers (TurboFan, and Maglev where Node has it) out of the master, which
 * carries no traffic: its code runs in V8's interpreter and baseline compiler. An optimizing compile
 * runs on V8's background threads, whose glibc arenas keep the memory once freed, and a master's
 * code turns hot again on each new path a reload takes: over 1,000 reloads under load, the master's
 * RSS grew 13.7% with them and 4% without (bench reload-soak; its floor is 10%). The workers, which
 * do carry traffic, keep them: the flag is this process's, and the cluster forks workers with the
 * command line, not with flags set at run time.
 */
export function leaveOptimizersOff(): void {
  setFlagsFromString('--no-turbofan');
  setFlagsFromString('--no-maglev');
}
