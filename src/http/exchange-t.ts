// The type of one request's exchange, apart from the code: exchange.ts makes either kind,
// service-exchange.ts and stream.ts are the kinds, and the muxes drive them through it.
import type { Who } from '../proto/termination';
import type { RequestHead } from './request-head';

/** One request and its response on a client connection, as the h1 mux drives it. */
export interface Exchange {
  readonly req: RequestHead;
  /** In the backend's queue. */
  readonly waiting: boolean;
  /** The server (or "<service>") answering, for `show sess`. */
  readonly server: string;
  start(): void;
  /** Takes request body bytes from the start of `buf`; how many it used (0: none now, keep them). */
  clientData(buf: Buffer): number;
  clientDrained(): void;
  clientGone(who: Who): void;
  terminate(who: Who): void;
}
