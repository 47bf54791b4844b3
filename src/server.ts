import type { ServerConfig } from './config/types';
import { shareOf } from './share';

/** An operator's runtime setting of one server (master CLI), which overrides its configuration. */
export interface ServerAdmin {
  backend: string;
  server: string;
  enabled: boolean;
  weight: number;
}

/**
 * The address the master found for a server given by host name. `unresolvable` says why the name
 * no longer resolves (the last address found is kept, unused, until it does).
 */
export interface ResolvedAddress {
  backend: string;
  server: string;
  address: string;
  unresolvable?: string;
}

/** What the master tells every thread about servers: operators' settings and resolved addresses. */
export interface ServerPush {
  states: ServerAdmin[];
  addresses: ResolvedAddress[];
}

/**
 * A backend server as one thread sees it. Counters are per thread: threads share nothing, so
 * leastconn balances each thread's own sessions.
 */
export class Server {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /**
   * The IP address new connections go to: the configured one, or for a host name the one the master
   * resolved it to (pushed before the thread starts, and again whenever it changes).
   */
  address: string;
  /** Why the server takes no new sessions: its host name no longer resolves. */
  unresolvable: string | undefined;
  weight: number;
  /** This thread's share of the server's maxconn (see shareOf); undefined: no limit. */
  readonly maxconn: number | undefined;
  /** Sessions of this thread currently holding a slot on the server (connecting or connected). */
  active = 0;
  /** Sessions this thread sent to the server since start. */
  total = 0;
  /** Sessions of this thread that got the server after waiting in the backend queue. */
  fromQueue = 0;
  /** Connection attempts of this thread to the server that failed. */
  failures = 0;
  /** Off when an operator disabled the server (`disable server`): no new sessions. */
  enabled = true;
  /** Smooth weighted round-robin's running score. */
  current = 0;

  constructor(config: ServerConfig, threads: number) {
    this.name = config.name;
    this.host = config.host;
    this.port = config.port;
    this.address = config.host;
    this.weight = config.weight;
    this.maxconn = config.maxconn === undefined ? undefined : shareOf(config.maxconn, threads);
  }

  /** Every slot of this thread's share is taken: a new session waits in the backend queue. */
  get full(): boolean {
    return this.maxconn !== undefined && this.active >= this.maxconn;
  }

  get usable(): boolean {
    return this.enabled && this.weight > 0 && this.unresolvable === undefined;
  }

  /** "host:port", and the address a host name resolved to, for `show stat`. */
  describe(): string {
    const configured = `${this.host}:${this.port}`;
    if (this.unresolvable !== undefined) return `${configured} (unresolvable)`;
    return this.address === this.host ? configured : `${configured} (${this.address})`;
  }

  /** Takes the address the master resolved the server's host name to. */
  resolved(r: ResolvedAddress): void {
    this.address = r.address;
    this.unresolvable = r.unresolvable;
  }

  /** Takes an operator's runtime setting. */
  administer(admin: ServerAdmin): void {
    this.enabled = admin.enabled;
    this.weight = admin.weight;
  }
}
