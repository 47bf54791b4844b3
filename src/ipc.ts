// Messages between the master and a worker process (over node:cluster's IPC channel, where listening
// sockets ride along as SCM_RIGHTS handles) and between a worker's coordinator and its threads.
import type { Config } from './config/types';

/** Master -> worker process. A `receiver` or `rearm` message carries one dup of the socket. */
export type ToWorker =
  | { type: 'init'; config: Config; group: number; generation: number }
  | { type: 'receiver'; id: string; thread: number }
  | { type: 'start' }
  | { type: 'rearm'; id: string; thread: number }
  | { type: 'stop' }
  | { type: 'kill' };

/** Worker process -> master. */
export type FromWorker =
  | { type: 'ready'; threads: number }
  | { type: 'rearm'; id: string; thread: number }
  | { type: 'failed'; reason: string };

/** Coordinator -> thread. `rearm` carries a fresh dup of a receiver the thread closed when it was full. */
export type ToThread = { type: 'stop' } | { type: 'kill' } | { type: 'rearm'; id: string };

/** Thread -> coordinator. */
export type FromThread =
  | { type: 'ready' }
  | { type: 'rearm'; id: string }
  | { type: 'failed'; reason: string }
  | { type: 'drained' };

/**
 * What a thread listens on: the handle node's IPC layer made of a received socket (inline thread), or
 * the fd number of that socket (worker thread: handles cannot cross a MessagePort, fd numbers can).
 */
export type ListenTarget = object | { fd: number };
