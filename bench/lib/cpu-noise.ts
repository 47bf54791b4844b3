// Measures how much CPU others took during a round: processes outside the
// bench's tree (system-wide busy time minus our own) plus steal, the time the
// hypervisor gave our vCPUs to other guests. A round that lost a large share
// of the machine is reported, and retried, instead of silently skewing the
// median.

import fs from 'node:fs';
import { cpuTicks } from './cpu-time';
import { childPidsSync } from './tree';

interface Snapshot {
  busy: number;
  steal: number;
  total: number;
  ours: Map<number, number>;
}

function systemTicks(): { busy: number; steal: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal …
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system] = fields as [number, number, number];
  const steal = fields[7] ?? 0;
  // irq/softirq are left out of "busy": loopback traffic we cause lands there
  // without being charged to any of our processes.
  return { busy: user + nice + system, steal, total: fields.reduce((a, b) => a + b, 0) };
}

function ourTree(): number[] {
  const pids = [process.pid];
  for (let i = 0; i < pids.length; i += 1) pids.push(...childPidsSync(pids[i]!));
  return pids;
}

function snapshot(): Snapshot {
  const ours = new Map<number, number>();
  for (const pid of ourTree()) {
    // Reaped children (wrk) count as ours too.
    const ticks = cpuTicks(pid, true);
    if (ticks !== null) ours.set(pid, ticks);
  }
  return { ...systemTicks(), ours };
}

function ourDelta(before: Snapshot, after: Snapshot): number {
  let sum = 0;
  for (const [pid, ticks] of after.ours) sum += ticks - (before.ours.get(pid) ?? 0);
  return sum;
}

/** Call at the start of a round; the returned function gives the foreign share (0..1) of all CPUs. */
export function startNoiseMeter(): () => number {
  const before = snapshot();
  return () => {
    const after = snapshot();
    const total = after.total - before.total;
    if (total <= 0) return 0;
    const foreign = Math.max(0, after.busy - before.busy - ourDelta(before, after));
    return (foreign + after.steal - before.steal) / total;
  };
}
