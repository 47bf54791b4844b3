import type { Backend } from '../backend/backend';
import type { Who } from '../proto/termination';
import type { RequestHead } from './request-head';
import { ServiceExchange } from './service-exchange';
import { HttpStream, type ClientSide } from './stream';

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

/** The exchange for a request routed to `backend`: its built-in HTTP service, or its servers. */
export function exchangeFor(client: ClientSide, req: RequestHead, backend: Backend, acceptedAt: number, headAt: number, headBytes: number): Exchange {
  if (backend.httpService !== undefined) return new ServiceExchange(client, req, backend, backend.httpService, acceptedAt, headAt, headBytes);
  return new HttpStream(client, req, backend, acceptedAt, headAt, headBytes);
}
