// Entry point of a worker process: the coordinator of one thread group. It receives one dup of every
// receiver per thread from the master, starts the threads, relays the master's orders to them and
// reports their state back. It never binds or accepts itself unless it runs the only thread inline.
import type { Config } from '../src/config/types';
import type { FromThread, FromWorker, ToWorker } from '../src/ipc';
import { createLogger, type Logger } from '../src/log';
import { fdOf, InlineThread, WorkerThread, type ThreadLink } from './thread-link';

interface Group {
  config: Config;
  group: number;
  generation: number;
  log: Logger;
  /** Dups received for each thread, by receiver id, until the threads start. */
  receivers: Map<string, object>[];
  threads: ThreadLink[];
  ready: number;
  drained: number;
}

let state: Group | undefined;

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function onMaster(msg: ToWorker, handle: object | undefined): void {
  if (msg.type === 'init') return init(msg.config, msg.group, msg.generation);
  const g = state;
  if (g === undefined) return;
  switch (msg.type) {
    case 'receiver':
      if (handle !== undefined) g.receivers[msg.thread].set(msg.id, handle);
      break;
    case 'start':
      startThreads(g);
      break;
    case 'rearm':
      g.threads[msg.thread]?.post({ type: 'rearm', id: msg.id }, handle);
      break;
    case 'stop':
    case 'kill':
      g.log.info(msg.type === 'stop' ? 'stop requested: draining' : 'hard stop: closing every session');
      for (const t of g.threads) t.post({ type: msg.type });
      break;
  }
}

function init(config: Config, group: number, generation: number): void {
  const n = config.global.threads;
  state = {
    config,
    group,
    generation,
    log: createLogger(config.global.log.level, { role: 'worker', group, generation }),
    receivers: Array.from({ length: n }, () => new Map<string, object>()),
    threads: [],
    ready: 0,
    drained: 0,
  };
}

function startThreads(g: Group): void {
  const report = (thread: number, msg: FromThread): void => fromThread(g, thread, msg);
  g.receivers.forEach((receivers, thread) => {
    const id = { group: g.group, thread, generation: g.generation };
    g.threads.push(
      g.receivers.length === 1
        ? new InlineThread(g.config, id, receivers, report)
        : new WorkerThread({ config: g.config, id, receivers: [...receivers].map(([rid, h]) => [rid, fdOf(h)]) }, report, (t, code) => threadExited(g, t, code)),
    );
  });
  g.receivers = [];
}

function fromThread(g: Group, thread: number, msg: FromThread): void {
  switch (msg.type) {
    case 'ready':
      if (++g.ready === g.config.global.threads) send({ type: 'ready', threads: g.ready });
      break;
    case 'rearm':
      send({ type: 'rearm', id: msg.id, thread });
      break;
    case 'failed':
      g.log.error({ thread, reason: msg.reason }, 'thread failed to start');
      exit(g, 1);
      break;
    case 'drained':
      if (++g.drained === g.config.global.threads) {
        g.log.info('all sessions ended');
        exit(g, 0);
      }
      break;
  }
}

function threadExited(g: Group, thread: number, code: number): void {
  if (g.drained === g.config.global.threads) return;
  g.log.error({ thread, code }, 'thread exited unexpectedly: the group stops so that the master replaces it');
  exit(g, 1);
}

function exit(g: Group, code: number): void {
  g.log.flush();
  process.exit(code);
}

// These signals are the master's: a terminal's Ctrl-C or a service manager's SIGTERM can reach the
// whole process group, and a worker that died of them would cut its sessions short. The master tells
// workers how to stop; a worker exits on its own only when the master is gone.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const) process.on(signal, () => {});
process.on('message', onMaster);
