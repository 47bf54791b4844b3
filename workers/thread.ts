// Entry point of a worker thread: one complete stack over the fds its coordinator hands it.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromThread, ToThread } from '../src/proto/ipc';
import { createLogger } from '../src/log/log';
import { ThreadStack } from './stack';
import { fdOf } from '../src/conn/handles';
import type { Posted, ThreadStart } from './thread-link';

const start = workerData as ThreadStart;
const port = parentPort!;
const log = createLogger(start.config.global.log, { role: 'worker', ...start.id });

process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'thread crashed');
  process.exit(1);
});

const stack = new ThreadStack(start.config, start.id, log, (msg: FromThread, sockets = []) => {
  const posted: Posted<FromThread> = { ...msg, fds: sockets.map(fdOf) };
  port.postMessage(posted);
}, start.ports);
port.on('message', ({ fds, ...msg }: Posted<ToThread>) => stack.handle(msg as ToThread, (fds ?? []).map((fd) => ({ fd }))));
stack.settle(start.servers);
stack.start(new Map(start.receivers.map(([id, fd]) => [id, { fd }])));
