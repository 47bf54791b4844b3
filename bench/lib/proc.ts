// A started child plus what we need to reason about it: its output as lines
// (always drained, so a chatty child never blocks on a full pipe), a recent
// tail for error messages, and a promise for its exit.

import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { onProxyCpu } from './affinity';
import { trackChild } from './children';

const TAIL_LINES = 40;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: EventEmitter;
  readonly exited: Promise<Exit>;
  tail(): string;
  hasExited(): boolean;
}

export interface StartOptions {
  /** Node helpers get an IPC channel; they exit when it disconnects. */
  ipc?: boolean;
  env?: NodeJS.ProcessEnv;
}

function captureLines(stream: Readable | null, emitter: EventEmitter, tail: string[]): void {
  if (stream === null) return;
  const reader = readline.createInterface({ input: stream, crlfDelay: Infinity });
  reader.on('line', (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    emitter.emit('line', line);
  });
}

export function startProc(name: string, command: string, args: readonly string[], options: StartOptions = {}): Proc {
  const stdio = options.ipc === true
    ? (['ignore', 'pipe', 'pipe', 'ipc'] as const)
    : (['ignore', 'pipe', 'pipe'] as const);
  const child = spawn(command, [...args], { stdio: [...stdio], env: options.env ?? process.env });
  trackChild(child);
  const lines = new EventEmitter();
  const tailLines: string[] = [];
  captureLines(child.stdout, lines, tailLines);
  captureLines(child.stderr, lines, tailLines);
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      done = true;
      tailLines.push(String(err));
      resolve({ code: null, signal: null });
    });
  });
  if (child.pid === undefined) {
    // spawn reports ENOENT asynchronously; the pid tells us synchronously.
    throw new Error(`${name}: could not start ${command}`);
  }
  return {
    name,
    child,
    pid: child.pid,
    lines,
    exited,
    tail: () => tailLines.join('\n'),
    hasExited: () => done,
  };
}

export function startNodeHelper(name: string, script: string, args: readonly (string | number)[]): Proc {
  return startProc(name, process.execPath, [script, ...args.map(String)], { ipc: true });
}

/** Like startNodeHelper, but on the CPU reserved for proxies. */
export function startNodeProxy(name: string, script: string, args: readonly (string | number)[]): Proc {
  const [command, argv] = onProxyCpu(process.execPath, [script, ...args.map(String)]);
  return startProc(name, command, argv, { ipc: true });
}

export function exitError(proc: Proc, what: string, exit: Exit): Error {
  const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
  return new Error(`${proc.name} exited (${how}) while ${what}\n--- last output ---\n${proc.tail()}`);
}

/** SIGTERM first so a proxy can shut down cleanly; SIGKILL if it dawdles. */
export async function stopProc(proc: Proc, graceMs = 3000): Promise<void> {
  if (proc.hasExited()) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}
