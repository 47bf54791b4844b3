import { CUT_TERMINATION, DROP_LIMIT, type Cut } from '../conn/closing';
import type { Termination } from '../proto/termination';
import type { StreamContext } from '../stream/session';
import type { RequestHead } from './request-head';
import type { ClientSide } from './client-side-t';
import { nextRequestId } from './request-id';
import type { Traffic } from '../lib/traffic';

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
  /** Besides the frontend's, who counts the request: its backend, and its server when it had one. */
  counters: readonly Traffic[];
}

/**
 * Counts a request, and writes its one access-log line, whoever answered it: a server or a built-in
 * service; none with `log.access: false` or a level above info.
 */
export function logRequest(client: ClientSide, req: RequestHead, o: RequestOutcome): void {
  const { ctx } = client;
  if (o.termination !== '--') {
    ctx.frontend.ended(o.termination);
    for (const t of o.counters) t.ended(o.termination);
  }
  const retries = o.retries ?? 0;
  ctx.frontend.traffic.request(o.status, o.bytesIn, o.bytesOut, retries, o.responseMs, o.totalMs);
  for (const t of o.counters) t.request(o.status, o.bytesIn, o.bytesOut, retries, o.responseMs, o.totalMs);
  // The line's fields are built only when it is written (optional chaining skips the arguments).
  ctx.access?.info(
    {
      client: client.client,
      protocol: client.protocol,
      frontend: ctx.frontend.name,
      backend: o.backend,
      server: o.server,
      method: req.method,
      path: req.target,
      host: req.fields.get('host') ?? '-',
      userAgent: req.fields.get('user-agent') ?? '-',
      requestId: nextRequestId(),
      status: o.status,
      bytesIn: o.bytesIn,
      bytesOut: o.bytesOut,
      requestMs: o.requestMs,
      queueMs: o.queueMs ?? 0,
      connectMs: o.connectMs ?? -1,
      responseMs: o.responseMs,
      totalMs: o.totalMs,
      retries,
      reused: o.reused ?? false,
      termination: o.termination,
      ...(o.reason !== undefined && { reason: o.reason }),
      ...(client.conn.tls?.client !== undefined && { clientCert: client.conn.tls.client }),
      ...(client.generations.length > 0 ? { adopted: true, generations: [...client.generations, ctx.service.generation] } : {}),
    },
    'request',
  );
}

const CUT_REASONS: Readonly<Record<Cut, string>> = {
  flush: 'the client took none of the last bytes within timeout.client',
  fin: 'the client did not close within timeout.clientFin',
  drop: `the client sent more than ${DROP_LIMIT} bytes after the answer`,
};

/**
 * The line of a client connection cut while closing (src/conn/closing.ts): its requests have their
 * lines already, this one says how the connection ended. A client that closes in time logs nothing.
 */
export function logCut(ctx: StreamContext, client: string, protocol: 'h1' | 'h2', acceptedAt: number, why: Cut, dropped: number): void {
  const termination = CUT_TERMINATION[why];
  ctx.frontend.ended(termination);
  ctx.access?.info({ client, protocol, frontend: ctx.frontend.name, termination, reason: CUT_REASONS[why], dropped, totalMs: Date.now() - acceptedAt }, 'connection cut');
}
