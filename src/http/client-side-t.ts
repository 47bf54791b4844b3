// What an HTTP exchange (HttpStream, ServiceExchange, the access log) uses of the client side it
// answers, and how a response reaches that client: types apart from the code, which the muxes
// (mux/h1.ts, h2-exchange.ts) implement and the exchanges call, so that neither imports the other.
import type { Socket } from 'node:net';
import type { Server } from '../backend/server';
import type { Connection } from '../conn/connection';
import type { StreamContext } from '../stream/session';
import type { Fields } from './fields';
import type { Reply } from './reply';
import type { RequestHead } from './request-head';
import type { ResponseHead } from './response-head';

/**
 * What an HTTP stream needs from the client side it serves a request of: an HTTP/1.1 connection
 * (mux h1), or one stream of an HTTP/2 connection (mux h2).
 */
export interface ClientSide {
  readonly ctx: StreamContext;
  /** "ip:port" of the client, for the log. */
  readonly client: string;
  /** The client's address, for balancing by source and X-Forwarded-For. */
  readonly address: string | undefined;
  /**
   * The client connection: what a PROXY header to a server says of it (Connection.ends), and whose
   * alone the server connections that carry one are.
   */
  readonly conn: Connection;
  /** Generations the connection went through before this one. */
  readonly generations: readonly number[];
  /** The connection takes no request after this one (stopping, or the client half-closed). */
  readonly closing: boolean;
  /** Stops reading the request body, the server being slow to take it; `resumeInput` reads on. */
  pauseInput(): void;
  resumeInput(): void;
  /** The scheme the client used, for X-Forwarded-Proto and Forwarded. */
  readonly scheme: 'http' | 'https';
  /** The client's protocol, for the log: the mux's name. */
  readonly protocol: 'h1' | 'h2';
  /** Holds small writes back until `uncork`: a response head and the first body bytes go out together. */
  cork(): void;
  /** Sends what `cork` held; false when the client cannot take more for now ('drain' says when it can). */
  uncork(): boolean;
  /** How the final response to `req` reaches this client: chosen when its head came. */
  responder(req: RequestHead, res: ResponseHead, requestDone: boolean): Responder;
  /** Answers `req` with a built-in service's fixed response (keeping the connection open or not); the bytes written. */
  fixed(req: RequestHead, reply: Reply, keepAlive: boolean): number;
  /** Relays an interim (1xx) response to `req`; the bytes written. */
  interim(req: RequestHead, res: ResponseHead): number;
  /** The server connection is ready: the request's body may flow. */
  linkReady(): void;
  /** The whole request has been read. */
  requestRead(): void;
  /** The server switched protocols (101 to an Upgrade, 2xx to CONNECT): sends `res` on; the bytes written. */
  switched(res: ResponseHead): number;
  /** Then the connection becomes a tunnel to `socket`, starting with `toClient`, what the server sent after its head. */
  tunnel(socket: Socket, server: Server, toClient: Buffer): void;
  /** The response went out whole; `keepAlive`: the connection takes the next request. */
  responded(keepAlive: boolean): void;
  /** The exchange failed: answer `status` and close, or (undefined) just close, the response being under way. */
  failed(status: number | undefined): void;
}

/** A final response on its way to the client, framed as the client's protocol wants. */
export interface Responder {
  /** The body comes decoded (a chunked body as its data, its trailers at the end), not as the server framed it. */
  readonly decoded: boolean;
  /** The client connection takes another request after this response. */
  readonly keepAlive: boolean;
  /** Bytes written to the client so far, framing included. */
  readonly bytes: number;
  head(): void;
  /** Body bytes; false when the client cannot take more now (the stream waits for clientDrained). */
  data(buf: Buffer): boolean;
  /** The body is whole; `trailers`: those of a decoded chunked body. */
  end(trailers: Fields | undefined): void;
}
