// wrk is preferred: written in C, one thread, it leaves the second core to
// the proxy and backend instead of competing as a Node client would.

import { exitError, startProc } from '../lib/proc';
import type { LoadGenerator, LoadResult } from './load';

function number(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** wrk's summary: its rate, requests, socket errors and non-2xx responses. */
export function parseWrk(output: string): LoadResult {
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (rate === null) throw new Error(`could not read wrk output:\n${output}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = socketErrors === null ? 0 : socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0);
  const non2xx = number(output, /Non-2xx or 3xx responses:\s+(\d+)/);
  const requests = /(\d+) requests in/.exec(output);
  const sockets = socketErrors === null ? 'connect 0, read 0, write 0, timeout 0' : socketErrors[0].replace('Socket errors: ', '');
  return {
    requestsPerSecond: Number(rate[1]),
    requests: requests === null ? 0 : Number(requests[1]),
    errors: errors + non2xx,
    errorDetail: `${sockets}, non-2xx ${non2xx}`,
  };
}

// wrk counts a timeout for every connection whose request is older than the
// timeout, each time it checks (every 2 s), so a connection a proxy silently
// dropped keeps adding errors instead of just lowering the rate.
// A Lua `script` (wrk -s) can change what is sent, e.g. pipelined requests.
// More `threads` load a proxy with several workers (scale).
export function wrkGenerator(binary: string, connections: number, timeoutS: number, script?: { file: string; describe: string }, threads = 1): LoadGenerator {
  const scriptArgs = script === undefined ? [] : ['-s', script.file];
  return {
    describe: `wrk -t${threads} -c${connections} --timeout ${timeoutS}s${script === undefined ? '' : ` ${script.describe}`}`,
    async run(port, durationS) {
      const args = [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--timeout', `${timeoutS}s`, ...scriptArgs, `http://127.0.0.1:${port}/`];
      const proc = startProc('wrk', binary, args);
      const output: string[] = [];
      proc.lines.on('line', (line: string) => output.push(line));
      const exit = await proc.exited;
      if (exit.code !== 0) throw exitError(proc, 'loading', exit);
      return parseWrk(output.join('\n'));
    },
  };
}
