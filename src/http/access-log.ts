import type { Termination } from '../proto/termination';
import type { RequestHead } from './request-head';
import type { ClientSide } from './client-side-t';

/** What a request's log line says beyond its client, frontend and request line. */
export interface RequestOutcome {
  backend: string;
  server: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  requestMs: number;
  responseMs: number;
  totalMs: number;
  /** A built-in service's answer has none of these: no queue, no server connection (-1), no retry. */
  queueMs?: number;
  /** 0 on a reused server connection, -1 when none was made. */
  connectMs?: number;
  retries?: number;
  reused?: boolean;
  termination: Termination;
  reason: string | undefined;
}

/** The one access-log line of a request, whoever answered it: a server or a built-in service. */
export function logRequest(client: ClientSide, req: RequestHead, o: RequestOutcome): void {
  const { ctx } = client;
  ctx.log.info(
    {
      client: client.client,
      protocol: client.protocol,
      frontend: ctx.frontend.name,
      backend: o.backend,
      server: o.server,
      method: req.method,
      path: req.target,
      status: o.status,
      bytesIn: o.bytesIn,
      bytesOut: o.bytesOut,
      requestMs: o.requestMs,
      queueMs: o.queueMs ?? 0,
      connectMs: o.connectMs ?? -1,
      responseMs: o.responseMs,
      totalMs: o.totalMs,
      retries: o.retries ?? 0,
      reused: o.reused ?? false,
      termination: o.termination,
      ...(o.reason !== undefined && { reason: o.reason }),
      ...(client.generations.length > 0 ? { adopted: true, generations: [...client.generations, ctx.service.generation] } : {}),
    },
    'request',
  );
}
