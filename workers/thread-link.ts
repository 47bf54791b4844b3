import { join } from 'node:path';
import { Worker, type MessagePort } from 'node:worker_threads';
import type { Config } from '../src/config/types';
import { fdOf, handleOnFd, udpHandleOnFd } from '../src/conn/handles';
import type { FromThread, ToThread } from '../src/proto/ipc';
import { createLogger } from '../src/log/log';
import type { ServerPush } from '../src/proto/server-push';
import { ThreadStack, type ThreadIdentity } from './stack';
import { ThreadStacks, type MakeStack } from './thread-stacks';

/**
 * How a coordinator reaches one of its threads, wherever that thread runs. Sockets ride beside the
 * messages, as the handles node's IPC layer made of fds received from the master.
 */
export interface ThreadLink {
  post(msg: ToThread, sockets?: object[]): void;
}

export type ThreadReport = (thread: number, msg: FromThread, sockets: object[]) => void;

/** What crosses a MessagePort: the message and the fd numbers of the sockets beside it. */
export type Posted<M> = M & { fds?: number[] };

/** The data a worker thread starts from. Receivers travel as fd numbers: handles cannot be posted. */
export interface ThreadStart {
  config: Config;
  id: ThreadIdentity;
  receivers: [id: string, fd: number][];
  servers: ServerPush;
  /** To the sibling threads, by thread, for redispatched datagrams (null: this thread). */
  ports: (MessagePort | null)[];
}

/** The stacks on the coordinator's own thread: with `threads: 1` a worker process needs no other. */
export class InlineThread implements ThreadLink {
  private readonly stacks: ThreadStacks;

  constructor(config: Config, id: ThreadIdentity, receivers: ReadonlyMap<string, object>, servers: ServerPush, report: ThreadReport) {
    // Every generation's stack logs through one destination (one flush at exit), as a child.
    const base = createLogger(config.global.log, { role: 'worker', group: id.group, thread: id.thread });
    const make: MakeStack = (c, generation, up) => new ThreadStack(c, { ...id, generation }, base.child({ generation }), up);
    this.stacks = new ThreadStacks(config, id.generation, make, (msg, sockets = []) => report(id.thread, msg, sockets));
    this.stacks.current.settle(servers);
    this.stacks.current.start(receivers);
  }

  post(msg: ToThread, sockets: object[] = []): void {
    this.stacks.handle(msg, sockets);
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
    const transferList = start.ports.filter((p): p is MessagePort => p !== null);
    this.worker = new Worker(join(__dirname, 'thread.js'), { workerData: start, transferList });
    // Sockets a thread hands over come back to this thread as handles on the same fds: a flow's upstream is UDP.
    this.worker.on('message', ({ fds, ...msg }: Posted<FromThread>) => {
      const onFd = msg.type === 'handOver' && 'flow' in msg.handOver ? udpHandleOnFd : handleOnFd;
      report(start.id.thread, msg as FromThread, (fds ?? []).map(onFd));
    });
    this.worker.on('error', () => {
      // The thread's own logger has written the error; the exit handler decides what follows.
    });
    this.worker.on('exit', (code) => exited(start.id.thread, code));
  }

  post(msg: ToThread, sockets: object[] = []): void {
    const posted: Posted<ToThread> = { ...msg, fds: sockets.map(fdOf) };
    this.worker.postMessage(posted);
  }
}

