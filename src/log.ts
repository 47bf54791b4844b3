import { isatty } from 'node:tty';
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogSettings } from './config/types';
import { BatchedDestination } from './log-destination';

export type Logger = pino.Logger;

export interface LogBindings {
  role: 'master' | 'worker';
  group?: number;
  thread?: number;
  generation?: number;
}

/**
 * One logger per process or thread. Lines go to fd 1 through a destination of ours: pino's default
 * relies on process.stdout, which worker threads only reach through their parent. Lines logged in
 * one event-loop turn leave together at its end (log-destination.ts).
 */
export function createLogger(settings: LogSettings, bindings: LogBindings): Logger {
  const out = new BatchedDestination(1);
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

/** Each JSON line is turned into one line for people as it is logged, then held like a JSON line. */
function textDestination(out: BatchedDestination): pino.DestinationStream {
  const pretty = prettyFactory({
    colorize: isatty(1),
    singleLine: true,
    translateTime: 'SYS:standard',
    // Our `err` fields are messages, not errors with a stack: they stay on the line.
    errorLikeObjectKeys: [],
  });
  return { write: (line: string) => out.write(pretty(line)), flush: (done?: (err?: Error) => void) => out.flush(done) } as pino.DestinationStream;
}
