import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Config } from '../src/config/types';
import type { FromThread, ToThread } from '../src/ipc';
import { createLogger } from '../src/log';
import { ThreadStack, type ThreadIdentity } from './stack';

/** How a coordinator reaches one of its threads, wherever that thread runs. */
export interface ThreadLink {
  /** `handle` is the socket node's IPC layer made of a dup received from the master. */
  post(msg: ToThread, handle?: object): void;
}

export type ThreadReport = (thread: number, msg: FromThread) => void;

/** The data a worker thread starts from. Receivers travel as fd numbers: handles cannot be posted. */
export interface ThreadStart {
  config: Config;
  id: ThreadIdentity;
  receivers: [id: string, fd: number][];
}

/** The stack on the coordinator's own thread: with `threads: 1` a worker process needs no other. */
export class InlineThread implements ThreadLink {
  private readonly stack: ThreadStack;

  constructor(config: Config, id: ThreadIdentity, receivers: ReadonlyMap<string, object>, report: ThreadReport) {
    const log = createLogger(config.global.log.level, { role: 'worker', ...id });
    this.stack = new ThreadStack(config, id, log, (msg) => report(id.thread, msg));
    this.stack.start(receivers);
  }

  post(msg: ToThread, handle?: object): void {
    this.stack.handle(msg, handle);
  }
}

/**
 * The stack in a worker thread. A dup received by this process is open in the whole process, so the
 * thread can listen on its fd number. The handle node made of it is never closed here: once the
 * thread closes the fd, the number may belong to another socket.
 */
export class WorkerThread implements ThreadLink {
  private readonly worker: Worker;

  constructor(start: ThreadStart, report: ThreadReport, exited: (thread: number, code: number) => void) {
    this.worker = new Worker(join(__dirname, 'thread.js'), { workerData: start });
    this.worker.on('message', (msg: FromThread) => report(start.id.thread, msg));
    this.worker.on('error', () => {
      // The thread's own logger has written the error; the exit handler decides what follows.
    });
    this.worker.on('exit', (code) => exited(start.id.thread, code));
  }

  post(msg: ToThread, handle?: object): void {
    if (msg.type === 'adopt') throw new Error('sessions are handed over to inline threads only');
    this.worker.postMessage({ ...msg, fd: handle === undefined ? undefined : fdOf(handle) });
  }
}

export function fdOf(handle: object): number {
  const fd = (handle as { fd?: unknown }).fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('received a socket handle without a file descriptor');
  return fd;
}

