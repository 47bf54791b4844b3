import { isatty } from 'node:tty';
import pino from 'pino';
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
  const destinations: Record<LogSettings['format'], () => pino.DestinationStream> = {
    json: () => out as pino.DestinationStream,
    text: () => textDestination(out),
    journal: () => journalDestination(out),
  };
  const logger = pino(
    {
      level: settings.level,
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destinations[settings.format](),
  );
  // pino's children are made with Object.create(parent): they see this too.
  (logger as unknown as Record<symbol, boolean>)[ACCESS] = settings.access;
  return logger;
}

const ACCESS = Symbol('ferry.log.access');

/**
 * Where the access log's lines go (a TCP session's or an HTTP request's one line): the logger, or
 * nothing when `log.access` is false or `log.level` above info hides them. A stack asks once, when
 * it starts (a worker's log settings never change: a change takes new processes), so that a request
 * whose line is not written builds nothing for it.
 */
export function accessLog(log: Logger): Logger | undefined {
  const off = (log as unknown as Record<symbol, boolean | undefined>)[ACCESS] === false || !log.isLevelEnabled('info');
  return off ? undefined : log;
}

/** The syslog priority of each pino level (RFC 5424): fatal is crit, as journald's `-p crit` finds it. */
const PRIORITY: Readonly<Record<string, string>> = { fatal: '<2>', error: '<3>', warn: '<4>', info: '<6>', debug: '<7>', trace: '<7>' };

/** pino writes `{"level":"` first (our formatter puts the label there): the label is what follows. */
const LEVEL_AT = '{"level":"'.length;

/**
 * A JSON line after its syslog priority, `<4>{"level":"warn",...}`: journald (SyslogLevelPrefix=,
 * on by default) strips the prefix and files the entry under that priority, so that `journalctl -p
 * err` finds errors and worse.
 */
export function journalLine(line: string): string {
  return (PRIORITY[line.slice(LEVEL_AT, line.indexOf('"', LEVEL_AT))] ?? '<6>') + line;
}

function journalDestination(out: Destination): pino.DestinationStream {
  return { write: (line: string) => out.write(journalLine(line)), flush: (done?: (err?: Error) => void) => out.flush(done) } as pino.DestinationStream;
}

/**
 * Each JSON line is turned into one line for people as it is logged, then held like a JSON line.
 * pino-pretty loads only for this format: its 40 modules took 13 ms of each process's start (the
 * master's, and each worker's on a reload with new processes) that logs JSON.
 */
function textDestination(out: Destination): pino.DestinationStream {
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
  const pretty = prettyFactory({
    colorize: isatty(1),
    singleLine: true,
    translateTime: 'SYS:standard',
    // Our `err` fields are messages, not errors with a stack: they stay on the line.
    errorLikeObjectKeys: [],
  });
  return { write: (line: string) => out.write(pretty(line)), flush: (done?: (err?: Error) => void) => out.flush(done) } as pino.DestinationStream;
}
