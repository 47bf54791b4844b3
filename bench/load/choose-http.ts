// The http measurement's load: wrk when present (a C client on the shared
// core leaves the most room for the proxies), else the bench's raw keep-alive
// client. Both keep `depth` requests in flight per connection; wrk pipelines
// through a Lua script that sends `depth` requests per write, and stops at
// its deadline only (wrk has no request count limit: stopping its thread
// early still divides by the full duration), the raw client at its deadline
// or after a number of requests.

import { writeTempFile } from '../lib/temp';
import { which } from '../lib/which';
import { rawHttpGenerator } from './http-load';
import type { LoadGenerator } from './load';
import { wrkGenerator } from './wrk';

export type HttpLoadChoice = 'auto' | 'wrk' | 'raw';

/** Far above what one core serves in a round here; only a runaway round reaches it. */
const MAX_REQUESTS = 5_000_000;

function pipelineScript(depth: number): { file: string; describe: string } {
  // Built in init(): before it wrk.format knows no host and sends no Host header (node:http answers 400).
  const lua = `local requests
init = function()
  local batch = {}
  for i = 1, ${depth} do batch[i] = wrk.format(nil, "/") end
  requests = table.concat(batch)
end
request = function() return requests end
`;
  return { file: writeTempFile(`wrk-pipeline-${depth}.lua`, lua), describe: `pipelining ${depth}` };
}

export function chooseHttpLoad(choice: HttpLoadChoice, connections: number, depth: number, timeoutS = 10): LoadGenerator {
  const wrk = which('wrk');
  if (choice === 'wrk' && wrk === null) throw new Error('--http-load wrk: wrk is not on PATH (bench/install-tools.sh installs it)');
  if (choice === 'raw' || wrk === null) return rawHttpGenerator(connections, depth, MAX_REQUESTS);
  return wrkGenerator(wrk, connections, timeoutS, depth > 1 ? pipelineScript(depth) : undefined);
}
