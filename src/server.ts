import type { ServerConfig } from './config/types';

/**
 * A backend server as one thread sees it. Counters are per thread: threads share nothing, so
 * leastconn balances each thread's own sessions.
 */
export class Server {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  weight: number;
  /** Sessions of this thread currently using the server. */
  active = 0;
  /** Sessions this thread sent to the server since start. */
  total = 0;
  /** Smooth weighted round-robin's running score. */
  current = 0;

  constructor(config: ServerConfig) {
    this.name = config.name;
    this.host = config.host;
    this.port = config.port;
    this.weight = config.weight;
  }

  get usable(): boolean {
    return this.weight > 0;
  }
}
