// Memory is read from /proc rather than asked of the process, so ferry,
// haproxy and the pipe proxy are all measured the same way from outside.

import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './stats';

export async function readRssBytes(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** A few samples a short while apart smooth out a GC caught mid-sweep. */
export async function sampleRssBytes(pid: number, samples = 5, gapMs = 200): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    if (i > 0) await sleep(gapMs);
    values.push(await readRssBytes(pid));
  }
  return median(values);
}
