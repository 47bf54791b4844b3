import { Traffic } from '../lib/traffic';
import { POOL_DEFAULTS } from '../config/http-options';
import type { ServerConfig } from '../config/types';
import { ConnectionPool } from './pool';
import { shareOf } from '../lib/share';
import type { ProxyVersion } from '../conn/proxy/encode';
import { ServerTls } from './server-tls';
import type { AdminState, ResolvedAddress, ServerAdmin, ServerHealth, ServerState } from '../proto/server-push';
import type { Who } from '../proto/termination';

/** What an operator's setting and the health verdict make a server (see ServerState for the order). */
export function stateOf(admin: AdminState, up: boolean): ServerState {
  if (admin === 'maint') return 'MAINT';
  if (!up) return 'DOWN';
  return admin === 'drain' ? 'DRAIN' : 'UP';
}

/** Where slowstart begins: a server that took everything at once right after coming back would be swamped. */
const RAMP_FLOOR = 0.01;

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
  readonly backup: boolean;
  /** Each connection to the server begins with a PROXY header of this version. */
  readonly sendProxy: ProxyVersion | undefined;
  /** TLS towards the server, after the PROXY header if any. */
  readonly tls: ServerTls | undefined;
  /** The configured weight, or the operator's (`set weight`). */
  userWeight: number;
  /** The weight balancers use: userWeight, scaled down while slowstart ramps it up. */
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
  /** Bytes, HTTP status classes and times of the sessions and requests it served on this thread. */
  readonly traffic = new Traffic();
  admin: AdminState = 'ready';
  /** False once checks (master) or this thread's passive detection found it failing. */
  up = true;
  /** Smooth weighted round-robin's running score. */
  current = 0;
  private since = 0;
  private readonly slowstart: number;
  private readonly observe: number | undefined;
  /** Failed connect attempts in a row, for passive detection. */
  private failedInARow = 0;
  /** This thread's idle HTTP connections to the server. */
  readonly pool: ConnectionPool;

  constructor(
    readonly config: ServerConfig,
    /** Threads of the whole service, which share the server's maxconn. */
    threads: number,
    /** Told when passive detection takes the server DOWN in this thread, with the reason. */
    private readonly observed: (server: Server, reason: string) => void = () => {},
  ) {
    this.name = config.name;
    this.host = config.host;
    this.port = config.port;
    this.address = config.host;
    this.backup = config.backup === true;
    this.sendProxy = config.sendProxy;
    this.tls = config.tls === undefined ? undefined : new ServerTls(config.tls);
    this.userWeight = config.weight;
    this.weight = config.weight;
    this.maxconn = config.maxconn === undefined ? undefined : shareOf(config.maxconn, threads);
    this.slowstart = config.slowstart ?? 0;
    this.observe = config.check?.observe?.failures;
    this.pool = new ConnectionPool(config.pool ?? POOL_DEFAULTS);
  }

  /** Every slot of this thread's share is taken: a new session waits in the backend queue. */
  get full(): boolean {
    return this.maxconn !== undefined && this.active >= this.maxconn;
  }

  get usable(): boolean {
    return this.admin === 'ready' && this.up && this.weight > 0 && this.unresolvable === undefined;
  }

  /** A host name that stopped resolving leaves the server DOWN, whatever its checks said last. */
  get state(): ServerState {
    return stateOf(this.admin, this.up && this.unresolvable === undefined);
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
    this.admin = admin.admin;
    this.userWeight = admin.weight;
  }

  /** Takes the master's health verdict; none means UP, never down. */
  checked(health: ServerHealth | undefined): void {
    const up = health?.up ?? true;
    // Failures "in a row" do not run across a time the server was DOWN.
    if (up !== this.up) this.failedInARow = 0;
    this.up = up;
    this.since = health?.since ?? 0;
  }

  /**
   * Sets `weight` for `now`: slowstart scales it linearly from RAMP_FLOOR to userWeight. Says
   * whether the ramp goes on.
   */
  ramp(now: number): boolean {
    const elapsed = now - this.since;
    const ramping = elapsed < this.slowstart;
    this.weight = ramping ? this.userWeight * Math.max(RAMP_FLOOR, elapsed / this.slowstart) : this.userWeight;
    return ramping;
  }

  connectSucceeded(): void {
    this.failedInARow = 0;
  }

  /** A connect attempt failed: refused or reset ('S'), or timed out ('s'). */
  connectFailed(who: Who): void {
    this.failures++;
    if (this.observe === undefined || !this.up || ++this.failedInARow < this.observe) return;
    this.up = false;
    this.failedInARow = 0;
    this.observed(this, `${this.observe} connect attempts in a row failed (last: ${who === 's' ? 'timeout' : 'refused or reset'})`);
  }
}
