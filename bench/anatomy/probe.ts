// Preloaded into ferry's processes by the reload-cpu tool (NODE_OPTIONS=--require, which a cluster
// worker inherits from its master): a worker process writes its own CPU time (process.cpuUsage(),
// user + system, in µs) and CLOCK_MONOTONIC at its milestones, one JSON line each, to the file
// named by FERRY_PROBE_OUT:
//   loaded        this module runs: Node has booted, none of ferry's code has run yet;
//   firstMessage  the first message from the master (init): worker.js and everything it imports
//                 statically have been loaded and run;
//   ready         the worker tells the master it is ready (its threads listen);
//   stop          the master tells it to stop (a reload retires it);
//   adopted       300 ms after the last hand-over part it received: the CPU once ferry had handled
//                 that part (taken on the next turn of the event loop), with the parts so far;
//   exit          the process exits, with the hand-over parts it sent and received.
// It reads nothing of ferry's and changes nothing: it listens to the same IPC channel and wraps
// process.send to see the messages go. The master and anything else that loads it write nothing.

import fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';

interface Message {
  type?: unknown;
}

const out = process.env['FERRY_PROBE_OUT'];
const isWorker = /workers[\\/]worker\.js$/.test(process.argv[1] ?? '');

function record(event: string, extra: Record<string, unknown> = {}): void {
  const { user, system } = process.cpuUsage();
  const line = { pid: process.pid, event, mono: Number(process.hrtime.bigint()), cpuUs: user + system, ...extra };
  fs.appendFileSync(out!, `${JSON.stringify(line)}\n`);
}

function typeOf(msg: unknown): unknown {
  return typeof msg === 'object' && msg !== null ? (msg as Message).type : undefined;
}

if (out !== undefined && out !== '' && isMainThread && isWorker && process.send !== undefined) {
  record('loaded');
  let first = true;
  let partsIn = 0;
  let partsOut = 0;
  let adopted: { mono: number; cpuUs: number } | undefined;
  let quiet: NodeJS.Timeout | undefined;
  const noteAdopted = (): void => {
    const { user, system } = process.cpuUsage();
    adopted = { mono: Number(process.hrtime.bigint()), cpuUs: user + system };
    clearTimeout(quiet);
    quiet = setTimeout(() => fs.appendFileSync(out, `${JSON.stringify({ pid: process.pid, event: 'adopted', ...adopted, partsIn })}\n`), 300).unref();
  };
  process.on('message', (msg: unknown) => {
    const type = typeOf(msg);
    if (first) {
      first = false;
      record('firstMessage', { type });
    }
    if (type === 'stop') record('stop');
    if (type === 'handOverPart') {
      partsIn += 1;
      setImmediate(noteAdopted);
    }
  });
  const send = process.send.bind(process) as (...args: unknown[]) => boolean;
  process.send = ((...args: unknown[]): boolean => {
    const type = typeOf(args[0]);
    if (type === 'ready') record('ready');
    if (type === 'handOverPart') partsOut += 1;
    return send(...args);
  }) as typeof process.send;
  process.on('exit', () => record('exit', { partsIn, partsOut }));
}
