import pino from 'pino';
import type { LogLevel } from './config/types';

export type Logger = pino.Logger;

export interface LogBindings {
  role: 'master' | 'worker';
  group?: number;
  thread?: number;
  generation?: number;
}

/**
 * One logger per process or thread. Lines go to fd 1 through an explicit synchronous destination:
 * pino's default destination relies on process.stdout, which worker threads only reach through their
 * parent, and a synchronous write keeps the last lines before an exit.
 */
export function createLogger(level: LogLevel, bindings: LogBindings): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
