import type { Mode } from '../config/types';
import type { Connection } from '../conn/connection';
import type { Socket } from 'node:net';
import type { Envelope } from '../proto/envelope';
import type { Session, StreamContext } from '../stream/session';

/**
 * A multiplexer turns a connection's bytes into streams. Which one a connection gets depends on the
 * frontend's mode and the protocol the client negotiated (ALPN; '' when there is none), as in
 * HAProxy's mux_proto_list. Adding a mux is one file that calls `registerMux` once.
 */
export interface MuxFactory {
  readonly name: string;
  readonly mode: Mode;
  /** ALPN protocols this mux serves; '' matches connections that negotiated none. */
  readonly alpn: readonly string[];
  attach(conn: Connection, ctx: StreamContext): Session;
  /** Carries on a session an older generation handed over (`server`: its server socket, if any). */
  adopt(conn: Connection, ctx: StreamContext, envelope: Envelope, server: Socket | undefined): Session;
}

/** What serves connections, apart from what selects the mux. */
export type MuxServing = Pick<MuxFactory, 'attach' | 'adopt'>;

const registry: MuxFactory[] = [];

/**
 * Registers a mux whose code loads on its first connection: a worker that serves no HTTP never
 * loads the HTTP parsers or node:http2 (several MiB per worker thread).
 */
export function registerLazyMux(select: Pick<MuxFactory, 'name' | 'mode' | 'alpn'>, load: () => MuxServing): void {
  let serving: MuxServing | undefined;
  const loaded = (): MuxServing => (serving ??= load());
  registerMux({ ...select, attach: (conn, ctx) => loaded().attach(conn, ctx), adopt: (conn, ctx, envelope, server) => loaded().adopt(conn, ctx, envelope, server) });
}

export function registerMux(mux: MuxFactory): void {
  if (registry.some((m) => m.mode === mux.mode && m.alpn.some((a) => mux.alpn.includes(a)))) {
    throw new Error(`mux ${mux.name}: another mux already serves mode ${mux.mode} with one of ALPN ${mux.alpn.join(', ')}`);
  }
  registry.push(mux);
}

/**
 * The mux registered for (mode, ALPN); when none registered the negotiated protocol, the mode's
 * mux for '' (so `pt` relays whatever a TLS client agreed on in tcp mode).
 */
export function selectMux(mode: Mode, alpn = ''): MuxFactory {
  const mux = registry.find((m) => m.mode === mode && m.alpn.includes(alpn)) ?? registry.find((m) => m.mode === mode && m.alpn.includes(''));
  if (mux === undefined) throw new Error(`no mux serves mode ${mode} with ALPN "${alpn}"`);
  return mux;
}
