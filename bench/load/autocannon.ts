// Fallback when wrk is not installed. It runs inside the bench process, which
// is otherwise idle during a rate round, so it adds no extra process.

import autocannon from 'autocannon';
import type { LoadGenerator } from './load';

export function autocannonGenerator(connections: number, timeoutS: number): LoadGenerator {
  return {
    describe: `autocannon -c ${connections} --timeout ${timeoutS}`,
    async run(port, durationS) {
      const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: durationS, pipelining: 1, timeout: timeoutS });
      return {
        requestsPerSecond: result.requests.total / result.duration,
        requests: result.requests.total,
        errors: result.errors + result.non2xx,
        // autocannon's errors include its timeouts.
        errorDetail: `errors ${result.errors} (timeouts ${result.timeouts}), non-2xx ${result.non2xx}`,
      };
    },
  };
}
