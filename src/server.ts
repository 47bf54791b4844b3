import type { ServerConfig } from './config/types';

/** An operator's runtime setting of one server (master CLI), which overrides its configuration. */
export interface ServerAdmin {
  backend: string;
  server: string;
  enabled: boolean;
  weight: number;
}

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
  /** Connection attempts of this thread to the server that failed. */
  failures = 0;
  /** Off when an operator disabled the server (`disable server`): no new sessions. */
  enabled = true;
  /** Smooth weighted round-robin's running score. */
  current = 0;

  constructor(config: ServerConfig) {
    this.name = config.name;
    this.host = config.host;
    this.port = config.port;
    this.weight = config.weight;
  }

  get usable(): boolean {
    return this.enabled && this.weight > 0;
  }

  /** Takes an operator's runtime setting. */
  administer(admin: ServerAdmin): void {
    this.enabled = admin.enabled;
    this.weight = admin.weight;
  }
}
