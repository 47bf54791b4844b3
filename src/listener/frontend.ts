import type { FrontendConfig } from '../config/types';
import { DEFAULT_LIMITS, type HeadLimits } from '../config/head-limits';
import type { Listener } from './listener';
import type { TlsCounters } from '../proto/snapshot';
import type { Termination } from '../proto/termination';
import { Traffic } from '../lib/traffic';

/** A frontend as one thread runs it: its listeners, its share of maxconn, its live session count. */
export class Frontend {
  sessions = 0;
  /** Sessions accepted by this thread (not those taken over from an older generation). */
  accepted = 0;
  readonly listeners: Listener[] = [];
  /** TLS handshakes completed and failed on this thread; only for a frontend with TLS binds. */
  readonly tls: TlsCounters | undefined;
  /** HTTP requests this thread served (or refused) on the frontend. */
  requests = 0;
  /** How large a request head may be (HTTP mode). */
  readonly limits: HeadLimits;
  /** Connections ferry has answered and ended that wait for their client to close (src/conn/closing.ts). */
  closing = 0;
  /** Sessions, requests and connections that did not end normally, by termination code. */
  readonly terminations: Partial<Record<Termination, number>> = {};
  /** Bytes, HTTP status classes and times of the sessions and requests that ended on this thread. */
  readonly traffic = new Traffic();

  constructor(
    readonly config: FrontendConfig,
    /** This thread's share of the frontend's maxconn. */
    readonly maxconn: number,
  ) {
    if (config.bind.some((b) => b.tls !== undefined)) this.tls = { handshakes: 0, failures: 0 };
    const http = config.http;
    this.limits = http === undefined ? DEFAULT_LIMITS : { maxLine: http.maxRequestLine, maxHead: http.maxHeaderSize };
  }

  get name(): string {
    return this.config.name;
  }

  get clientTimeout(): number {
    return this.config.timeout.client;
  }

  /** Counts an end other than the normal one. */
  ended(termination: Termination): void {
    this.terminations[termination] = (this.terminations[termination] ?? 0) + 1;
  }

  get full(): boolean {
    return this.sessions >= this.maxconn;
  }
}
