// In-process tests of the layers that run in a worker need what a worker gets from the master: its
// own dup of a socket (a listening socket at start and on rearm, a session's sockets on hand-over),
// on a handle node's IPC made. Node has no dup(); this passes the socket over node's own IPC
// (SCM_RIGHTS on a Unix socket pair), from this process to itself, as node:cluster passes it from
// the master to a worker.

import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface PipeHandle {
  readonly fd: number;
  onconnection?: (status: number, accepted: PipeHandle) => void;
  onread?: (buffer: ArrayBuffer | undefined) => void;
  pendingHandle: object | null;
  bind(path: string): number;
  listen(backlog: number): number;
  connect(req: object, path: string): number;
  open(fd: number): number;
  readStart(): number;
  writeUtf8String(req: object, data: string, handle: object): number;
  ref(): void;
  unref(): void;
  close(): void;
}

type PipeWrap = {
  Pipe: new (type: number) => PipeHandle;
  PipeConnectWrap: new () => { oncomplete?: (status: number) => void };
  constants: { SERVER: number; IPC: number };
};
type StreamWrap = { WriteWrap: new () => { handle?: object; oncomplete?: () => void; async?: boolean } };
type Binding = { binding(name: 'pipe_wrap'): PipeWrap; binding(name: 'stream_wrap'): StreamWrap };

interface Channel {
  sender: PipeHandle;
  receiver: PipeHandle;
}

let channel: Promise<Channel> | undefined;
/** The plain handles on the channel's accepted end, kept open (see `open`). */
const kept: PipeHandle[] = [];
/** One socket travels at a time: node reads one passed handle per read. */
let last: Promise<unknown> = Promise.resolve();

/**
 * A new handle on its own fd for the socket behind `handle` (a libuv TCP or pipe handle: a
 * listening socket's, or a connected one's). Closing either leaves the other open.
 */
export function dup(handle: object): Promise<object> {
  const next = last.then(() => pass(handle));
  last = next.catch(() => undefined);
  return next;
}

async function pass(handle: object): Promise<object> {
  const { sender, receiver } = await (channel ??= open());
  const { WriteWrap } = (process as unknown as Binding).binding('stream_wrap');
  return new Promise((resolve, reject) => {
    receiver.ref();
    receiver.onread = () => {
      const received = receiver.pendingHandle;
      receiver.pendingHandle = null;
      if (received === null) return;
      receiver.unref();
      resolve(received);
    };
    const req = new WriteWrap();
    req.handle = sender;
    req.async = false;
    req.oncomplete = () => {};
    const err = sender.writeUtf8String(req, '.', handle);
    if (err !== 0) {
      receiver.unref();
      reject(new Error(`cannot pass the socket (libuv error ${err})`));
    }
  });
}

/**
 * A connected pair of IPC pipes, kept for the whole test process and never keeping it alive.
 * Node makes the accepted end a plain pipe, which cannot receive sockets: an IPC pipe is opened on
 * its fd, and the plain handle is kept, unused, so that the fd is never closed under the IPC one.
 */
function open(): Promise<Channel> {
  const { Pipe, PipeConnectWrap, constants } = (process as unknown as Binding).binding('pipe_wrap');
  const path = join(tmpdir(), `ferry-dup-${process.pid}.sock`);
  rmSync(path, { force: true });
  return new Promise((resolve, reject) => {
    const server = new Pipe(constants.SERVER);
    const failed = (what: string, err: number): void => reject(new Error(`dup channel: ${what} failed (libuv error ${err})`));
    server.onconnection = (status, accepted) => {
      server.close();
      rmSync(path, { force: true });
      if (status !== 0) return failed('accept', status);
      kept.push(accepted);
      const receiver = new Pipe(constants.IPC);
      const err = receiver.open(accepted.fd) || receiver.readStart();
      if (err !== 0) return failed('open', err);
      receiver.unref();
      sender.unref();
      resolve({ sender, receiver });
    };
    let err = server.bind(path) || server.listen(1);
    if (err !== 0) return failed('listen', err);
    const sender = new Pipe(constants.IPC);
    const req = new PipeConnectWrap();
    req.oncomplete = (status) => {
      if (status !== 0) failed('connect', status);
    };
    err = sender.connect(req, path);
    if (err !== 0) failed('connect', err);
  });
}
