// wrk with a timeline: how many responses arrived in each 100 ms slice, for the dip a single reload
// makes. wrk itself reports one rate per run, and consecutive short runs would reconnect every
// slice (and leave gaps between runs); instead a Lua script counts responses in wrk's response()
// hook, by slice of CLOCK_MONOTONIC read through LuaJIT's ffi, and prints the counts when wrk is
// done. Node's process.hrtime reads the same clock, so the bench can place the moment it asked for a
// reload on the same slices. The hook costs wrk little (the same rate with and without it against
// the bench backend here, about 60,000 req/s on one core), and nothing on the proxy's core.

import { exitError, startProc } from '../lib/proc';
import { writeTempFile } from '../lib/temp';
import type { LoadResult } from './load';
import { parseWrk } from './wrk';

export const SLICE_MS = 100;

export interface Timeline {
  /** Responses by slice; slice n covers CLOCK_MONOTONIC [n, n + 1) × SLICE_MS. */
  readonly counts: ReadonlyMap<number, number>;
  /** The first and last slice of the run, both partial. */
  readonly first: number;
  readonly last: number;
}

export interface TimelineRun {
  readonly result: LoadResult;
  readonly timeline: Timeline;
}

export interface TimelineLoad {
  readonly describe: string;
  run(port: number, durationS: number): Promise<TimelineRun>;
}

/** The slice that holds this instant of CLOCK_MONOTONIC (process.hrtime.bigint()). */
export function sliceOf(monotonicNs: bigint): number {
  return Number(monotonicNs / BigInt(SLICE_MS * 1_000_000));
}

/** Responses the timeline counts in [fromNs, toNs) of CLOCK_MONOTONIC, a slice cut short counting in proportion. */
export function requestsBetween(timeline: Timeline, fromNs: number, toNs: number): number {
  const slice = SLICE_MS * 1_000_000;
  let sum = 0;
  for (let s = Math.floor(fromNs / slice); s * slice < toNs; s += 1) {
    const overlap = Math.min(toNs, (s + 1) * slice) - Math.max(fromNs, s * slice);
    if (overlap > 0) sum += ((timeline.counts.get(s) ?? 0) * overlap) / slice;
  }
  return sum;
}

// CLOCK_MONOTONIC is 1 on Linux. `counts` is global: done() reads it from the thread by name.
const SCRIPT = `local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local now = ffi.new("bench_timespec")
counts = {}
response = function(status, headers, body)
  ffi.C.clock_gettime(1, now)
  local slice = math.floor((tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1000000) / ${SLICE_MS})
  counts[slice] = (counts[slice] or 0) + 1
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for slice, n in pairs(thread:get("counts")) do io.write(string.format("slice %d %d\\n", slice, n)) end
  end
end
`;

let scriptFile: string | null = null;

function parseTimeline(lines: readonly string[], from: number, to: number): Timeline {
  const counts = new Map<number, number>();
  for (const line of lines) {
    const match = /^slice (\d+) (\d+)$/.exec(line);
    if (match !== null) counts.set(Number(match[1]), (counts.get(Number(match[1])) ?? 0) + Number(match[2]));
  }
  return { counts, first: from, last: to };
}

/** One wrk thread, keep-alive, `timeoutS` as in wrk.ts (a stalled connection counts as failed). */
export function wrkTimeline(binary: string, connections: number, timeoutS: number): TimelineLoad {
  return {
    describe: `wrk -t1 -c${connections} --timeout ${timeoutS}s, responses counted per ${SLICE_MS} ms`,
    async run(port, durationS) {
      scriptFile ??= writeTempFile('wrk-timeline.lua', SCRIPT);
      const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', `${timeoutS}s`, '-s', scriptFile, `http://127.0.0.1:${port}/`];
      const from = sliceOf(process.hrtime.bigint());
      const proc = startProc('wrk', binary, args);
      const output: string[] = [];
      proc.lines.on('line', (line: string) => output.push(line));
      const exit = await proc.exited;
      const to = sliceOf(process.hrtime.bigint());
      if (exit.code !== 0) throw exitError(proc, 'loading', exit);
      return { result: parseWrk(output.join('\n')), timeline: parseTimeline(output, from, to) };
    },
  };
}
