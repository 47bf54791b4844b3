// The probe's lines (anatomy/probe.ts) read back: each worker process's milestones, by pid.

import fs from 'node:fs';

export interface Milestone {
  /** CLOCK_MONOTONIC, ns. */
  readonly mono: number;
  /** The process's CPU time so far, µs. */
  readonly cpuUs: number;
}

export interface WorkerLife {
  readonly pid: number;
  readonly loaded?: Milestone;
  readonly firstMessage?: Milestone;
  readonly ready?: Milestone;
  readonly stop?: Milestone;
  readonly adopted?: Milestone & { readonly partsIn: number };
  readonly exit?: Milestone & { readonly partsIn: number; readonly partsOut: number };
}

interface Line {
  pid: number;
  event: string;
  mono: number;
  cpuUs: number;
  partsIn?: number;
  partsOut?: number;
}

/** Every worker the file mentions, in the order each was loaded. */
export function readProbe(file: string): WorkerLife[] {
  const lives = new Map<number, Record<string, unknown>>();
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const line = JSON.parse(raw) as Line;
    const life = lives.get(line.pid) ?? { pid: line.pid };
    const milestone = { mono: line.mono, cpuUs: line.cpuUs };
    const parts = line.event === 'exit' ? { partsIn: line.partsIn ?? 0, partsOut: line.partsOut ?? 0 } : line.event === 'adopted' ? { partsIn: line.partsIn ?? 0 } : {};
    life[line.event] = { ...milestone, ...parts };
    lives.set(line.pid, life);
  }
  return [...lives.values()].map((life) => life as unknown as WorkerLife).sort((a, b) => (a.loaded?.mono ?? 0) - (b.loaded?.mono ?? 0));
}
