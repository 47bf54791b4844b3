// HTTP/1.1 keep-alive load from the bench process, over raw sockets: each
// connection sends `depth` GETs at once (1: one request in flight) and sends
// the next batch once all their responses are in. Responses are framed by
// their Content-Length only (the backend and every proxy in the line-up send
// one), which costs a few buffer scans per response instead of a full parser,
// so this client outruns a Node HTTP client several times over.
// A run stops at its deadline or once `maxRequests` were sent.

import net from 'node:net';
import type { LoadGenerator } from './load';

const HEAD_END = Buffer.from('\r\n\r\n');
const LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

export interface HttpLoadSpec {
  readonly port: number;
  readonly connections: number;
  readonly depth: number;
  readonly seconds: number;
  readonly maxRequests: number;
}

export interface HttpLoadResult {
  readonly responses: number;
  /** Responses other than 2xx, plus connections that failed or closed mid-run. */
  readonly errors: number;
  readonly seconds: number;
}

interface Budget {
  readonly until: number;
  /** Requests left to send over all connections. */
  left: number;
  responses: number;
  errors: number;
}

function request(port: number): Buffer {
  return Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: ferry-bench\r\n\r\n`);
}

/** Counts complete responses in `data`; returns how many and where the unparsed rest starts. */
class ResponseCounter {
  private pending = Buffer.alloc(0);
  /** Body bytes still to skip of the response being read. */
  private bodyLeft = 0;
  non2xx = 0;

  feed(chunk: Buffer): number {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let complete = 0;
    for (;;) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, data.length);
        this.bodyLeft -= skip;
        data = data.subarray(skip);
        if (this.bodyLeft > 0) break;
        complete += 1;
      }
      const end = data.indexOf(HEAD_END);
      if (end === -1) break;
      const head = data.toString('latin1', 0, end + 2);
      const length = LENGTH.exec(head);
      if (length === null) throw new Error(`response without Content-Length: ${JSON.stringify(head.slice(0, 200))}`);
      if (!head.startsWith('HTTP/1.1 2')) this.non2xx += 1;
      this.bodyLeft = Number(length[1]);
      data = data.subarray(end + HEAD_END.length);
      if (this.bodyLeft === 0) complete += 1;
    }
    // Copy the partial head so the large read buffer can be freed.
    this.pending = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
    return complete;
  }
}

function runConnection(spec: HttpLoadSpec, batch: Buffer, budget: Budget): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port: spec.port, host: '127.0.0.1', noDelay: true });
    const counter = new ResponseCounter();
    let inFlight = 0;
    let finished = false;
    const finish = (failed: boolean): void => {
      if (finished) return;
      finished = true;
      if (failed) budget.errors += 1;
      budget.errors += counter.non2xx;
      counter.non2xx = 0;
      socket.destroy();
      resolve();
    };
    const send = (): void => {
      if (budget.left < spec.depth || performance.now() >= budget.until) return finish(false);
      budget.left -= spec.depth;
      inFlight = spec.depth;
      socket.write(batch);
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      let done: number;
      try {
        done = counter.feed(chunk);
      } catch {
        return finish(true);
      }
      budget.responses += done;
      inFlight -= done;
      if (inFlight <= 0) send();
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(inFlight > 0));
  });
}

/** Runs until `seconds` have passed or `maxRequests` were sent, whichever comes first. */
export async function httpLoad(spec: HttpLoadSpec): Promise<HttpLoadResult> {
  const one = request(spec.port);
  const batch = Buffer.concat(new Array<Buffer>(spec.depth).fill(one));
  const start = performance.now();
  const budget: Budget = { until: start + spec.seconds * 1000, left: spec.maxRequests, responses: 0, errors: 0 };
  await Promise.all(Array.from({ length: spec.connections }, () => runConnection(spec, batch, budget)));
  return { responses: budget.responses, errors: budget.errors, seconds: (performance.now() - start) / 1000 };
}

/** The client above behind the interface the measurements share. */
export function rawHttpGenerator(connections: number, depth: number, maxRequests: number): LoadGenerator {
  return {
    describe: `raw keep-alive client, ${connections} connections, depth ${depth}, at most ${maxRequests} requests`,
    async run(port, seconds) {
      const result = await httpLoad({ port, connections, depth, seconds, maxRequests });
      return {
        requestsPerSecond: result.responses / result.seconds,
        requests: result.responses,
        errors: result.errors,
        errorDetail: `failed connections or non-2xx responses ${result.errors}`,
      };
    },
  };
}
