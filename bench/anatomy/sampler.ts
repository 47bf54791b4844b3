// Samples, every few milliseconds from the bench's CPU, the CPU time of a process tree (ferry's
// master and its workers) and of one CPU (the proxy's): each live process's utime+stime from
// /proc/PID/stat (all its threads: V8's compiler and GC threads count), the master's reaped children
// (so a worker that exited between two samples is not lost from the tree's total), and the CPU's
// busy, idle and steal time from /proc/stat. Times are clock ticks (10 ms); over the windows the
// analysis uses (100 ms and more) that is precise enough, and the kernel keeps utime+stime true to
// the tick. On loopback a good part of the proxy CPU's time is the TCP stack's softirq work, which
// the kernel counts apart from any process.

import fs from 'node:fs';
import { cpuTicks } from '../lib/cpu-time';
import { childPidsSync } from '../lib/tree';

export interface Sample {
  /** CLOCK_MONOTONIC, ns (process.hrtime.bigint()), as a number. */
  readonly mono: number;
  /** The master's own ticks. */
  readonly master: number;
  /** Ticks of the master's children that have exited and been reaped. */
  readonly reaped: number;
  /** Each live child's ticks, by pid. */
  readonly children: ReadonlyMap<number, number>;
  /** The same children's main thread alone (JavaScript, and the GC work V8 does on it): the rest is
   * their other threads, V8's concurrent compiler and GC helpers, libuv's pool. */
  readonly mainThreads: ReadonlyMap<number, number>;
  /** The proxy CPU: ticks in processes (user, nice, system), in interrupts (irq, softirq: on loopback, most of the TCP stack's work), idle (idle, iowait) and stolen by the hypervisor. */
  readonly cpuTasks: number;
  readonly cpuIrq: number;
  readonly cpuIdle: number;
  readonly cpuSteal: number;
}

function cpuLine(cpu: number): { tasks: number; irq: number; idle: number; steal: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  if (line === undefined) throw new Error(`/proc/stat has no cpu${cpu}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
  return { tasks: user! + nice! + system!, irq: irq! + softirq!, idle: idle! + iowait!, steal: steal ?? 0 };
}

/** utime+stime of one thread, from /proc/PID/task/TID/stat. */
function threadTicks(pid: number, tid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

function take(master: number, cpu: number): Sample | null {
  const own = cpuTicks(master);
  const withReaped = cpuTicks(master, true);
  if (own === null || withReaped === null) return null;
  const children = new Map<number, number>();
  const mainThreads = new Map<number, number>();
  for (const pid of childPidsSync(master)) {
    const ticks = cpuTicks(pid);
    const main = threadTicks(pid, pid);
    if (ticks !== null) children.set(pid, ticks);
    if (main !== null) mainThreads.set(pid, main);
  }
  const line = cpuLine(cpu);
  return { mono: Number(process.hrtime.bigint()), master: own, reaped: withReaped - own, children, mainThreads, cpuTasks: line.tasks, cpuIrq: line.irq, cpuIdle: line.idle, cpuSteal: line.steal };
}

export class CpuSampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly master: number, private readonly cpu: number) {}

  start(intervalMs = 10): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): Sample[] {
    clearInterval(this.timer);
    this.sample();
    return this.samples;
  }

  private sample(): void {
    const sample = take(this.master, this.cpu);
    if (sample !== null) this.samples.push(sample);
  }
}

/** A sampled quantity at `mono`, interpolated between the samples around it (null outside them). */
export function at(samples: readonly Sample[], mono: number, value: (s: Sample) => number | undefined): number | null {
  let before: Sample | undefined;
  for (const s of samples) {
    const v = value(s);
    if (v === undefined) continue;
    if (s.mono <= mono) before = s;
    else {
      if (before === undefined) return null;
      const b = value(before)!;
      return b + ((v - b) * (mono - before.mono)) / (s.mono - before.mono);
    }
  }
  return before !== undefined && before.mono === mono ? value(before)! : null;
}
