// What travels with a connection handed from an old generation to the next, beside its raw socket
// handles: everything the new owner needs to carry the session on as if nothing had happened.

import type { ProxyEnds } from './proxy-ends';

export interface Envelope {
  frontend: string;
  backend: string;
  /** The server the tunnel is connected to; absent when the client had no server connection yet. */
  server?: string;
  client: string;
  /** What the client connection's PROXY header said (its source is the client); absent without one. */
  proxied?: ProxyEnds;
  acceptedAt: number;
  connectedAt: number;
  /** Since when it waits in a backend queue for a server slot; absent when it is not waiting. */
  queuedAt?: number;
  /** Time it spent waiting for a slot before that; absent when none. */
  queueMs?: number;
  bytesIn: number;
  bytesOut: number;
  retries: number;
  /** Every generation that has held the session, oldest first. */
  generations: number[];
  /** Read from the client, not yet written to the server. */
  toServer: Buffer;
  /** Read from the server, not yet written to the client. */
  toClient: Buffer;
}

type Msgpackr = typeof import('msgpackr');
let codec: Msgpackr | undefined;

// Loaded on the first hand-over only: most workers never hand anything over, and every module a
// worker loads adds to the RSS of each one.
function msgpackr(): Msgpackr {
  return (codec ??= require('msgpackr') as Msgpackr);
}

/** msgpackr keeps Buffers binary; the result rides in a cluster message as base64. */
export function encodeEnvelope(e: Envelope): string {
  return msgpackr().pack(e).toString('base64');
}

export function decodeEnvelope(data: string): Envelope {
  const e = msgpackr().unpack(Buffer.from(data, 'base64')) as Envelope;
  return { ...e, toServer: Buffer.from(e.toServer), toClient: Buffer.from(e.toClient) };
}

/**
 * How many of the generations that held a session or flow it carries, the latest: a connection that
 * lives through thousands of reloads would otherwise carry (and log) every one of them.
 */
export const HELD_BY = 16;

/** `generations` and then `generation`, the latest HELD_BY of them. */
export function heldBy(generations: readonly number[], generation: number): number[] {
  const all = [...generations, generation];
  return all.length > HELD_BY ? all.slice(-HELD_BY) : all;
}
