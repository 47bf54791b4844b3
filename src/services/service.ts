import type { Socket } from 'node:net';

/** Who is serving, for services that say so. */
export interface ServiceContext {
  group: number;
  thread: number;
  generation: number;
}

/**
 * A built-in service runs inside the worker in place of a server connection (HAProxy's applets). It
 * takes over the client socket; the stream still times it out, counts its bytes and logs it.
 */
export interface Service {
  readonly name: string;
  serve(client: Socket, ctx: ServiceContext): void;
}
