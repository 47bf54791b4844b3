import { isatty } from 'node:tty';
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogSettings } from '../config/types';
import { BatchedDestination } from './destination';

export type Logger = pino.Logger;

/** Where a logger's lines go: both kinds write whole lines and can be flushed. */
type Destination = { write(line: string): unknown; flush(done?: (err?: Error) => void): void };

export interface LogBindings {
  role: 'master' | 'worker';
  group?: number;
  thread?: number;
  generation?: number;
}

/**
 * One logger per process or thread, writing to fd 1 itself: pino's default relies on
 * process.stdout, which worker threads only reach through their parent. A worker's lines (one per
 * request or session) leave together at the end of the event-loop turn that logged them
 * (log-destination.ts); the master's, few, are written before the log call returns, so that a
 * line is out before any reply or signal that follows it.
 */
export function createLogger(settings: LogSettings, bindings: LogBindings): Logger {
  const out: Destination = bindings.role === 'worker' ? new BatchedDestination(1) : pino.destination({ dest: 1, sync: true });
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
function textDestination(out: Destination): pino.DestinationStream {
  const pretty = prettyFactory({
    colorize: isatty(1),
    singleLine: true,
    translateTime: 'SYS:standard',
    // Our `err` fields are messages, not errors with a stack: they stay on the line.
    errorLikeObjectKeys: [],
  });
  return { write: (line: string) => out.write(pretty(line)), flush: (done?: (err?: Error) => void) => out.flush(done) } as pino.DestinationStream;
}
