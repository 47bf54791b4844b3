import type { Backend } from '../backend/backend';
import type { RequestHead } from './request-head';
import { ServiceExchange } from './service-exchange';
import { HttpStream } from './stream';
import type { ClientSide } from './client-side-t';
import type { Exchange } from './exchange-t';

/** The exchange for a request routed to `backend`: its built-in HTTP service, or its servers. */
export function exchangeFor(client: ClientSide, req: RequestHead, backend: Backend, acceptedAt: number, headAt: number, headBytes: number): Exchange {
  if (backend.httpService !== undefined) return new ServiceExchange(client, req, backend, backend.httpService, acceptedAt, headAt, headBytes);
  return new HttpStream(client, req, backend, acceptedAt, headAt, headBytes);
}
