import { isatty } from 'node:tty';
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogSettings } from './config/types';

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
export function createLogger(settings: LogSettings, bindings: LogBindings): Logger {
  const out = pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: settings.level,
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    settings.format === 'text' ? textDestination(out) : out,
  );
}

/**
 * Each JSON line is turned into one line for people as it is written, on the same synchronous
 * destination: like a JSON line, it is on fd 1 before the log call returns.
 */
function textDestination(out: pino.DestinationStream): pino.DestinationStream {
  const pretty = prettyFactory({
    colorize: isatty(1),
    singleLine: true,
    translateTime: 'SYS:standard',
    // Our `err` fields are messages, not errors with a stack: they stay on the line.
    errorLikeObjectKeys: [],
  });
  return { write: (line: string) => out.write(pretty(line)) };
}
