import type { FrontendConfig } from './config/types';
import type { Listener } from './listener';

/** A frontend as one thread runs it: its listeners, its share of maxconn, its live session count. */
export class Frontend {
  sessions = 0;
  /** Sessions accepted by this thread (not those taken over from an older generation). */
  accepted = 0;
  readonly listeners: Listener[] = [];

  constructor(
    readonly config: FrontendConfig,
    /** This thread's share of the frontend's maxconn. */
    readonly maxconn: number,
  ) {}

  get name(): string {
    return this.config.name;
  }

  get clientTimeout(): number {
    return this.config.timeout.client;
  }

  get full(): boolean {
    return this.sessions >= this.maxconn;
  }
}
