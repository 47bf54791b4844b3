// Entry point of a worker thread: one complete stack over the fds its coordinator hands it.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromThread, ToThread } from '../src/proto/ipc';
import { createLogger } from '../src/log/log';
import { ThreadStack } from './stack';
import { ThreadStacks, type MakeStack } from './thread-stacks';
import { fdOf } from '../src/conn/handles';
import type { Posted, ThreadStart } from './thread-link';

const start = workerData as ThreadStart;
const port = parentPort!;
// Every generation's stack logs through one destination (one flush at exit), as a child.
const base = createLogger(start.config.global.log, { role: 'worker', group: start.id.group, thread: start.id.thread });
const log = base.child({ generation: start.id.generation });

process.on('uncaughtException', (err) => {
  log.fatal({ err }, 'thread crashed');
  process.exit(1);
});

// The sibling ports carry redispatched datagrams: only the first generation's stack listens on them
// (a reload in place never has UDP frontends).
const make: MakeStack = (config, generation, up) =>
  new ThreadStack(config, { ...start.id, generation }, generation === start.id.generation ? log : base.child({ generation }), up, generation === start.id.generation ? start.ports : []);
const stacks = new ThreadStacks(start.config, start.id.generation, make, (msg: FromThread, sockets = []) => {
  const posted: Posted<FromThread> = { ...msg, fds: sockets.map(fdOf) };
  port.postMessage(posted);
});
port.on('message', ({ fds, ...msg }: Posted<ToThread>) => stacks.handle(msg as ToThread, (fds ?? []).map((fd) => ({ fd }))));
stacks.current.settle(start.servers);
stacks.current.start(new Map(start.receivers.map(([id, fd]) => [id, { fd }])));
