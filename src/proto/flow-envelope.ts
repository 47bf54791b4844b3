// What travels with a UDP flow handed from an old generation to the next, beside its upstream
// socket (connected to the server): everything the new owner needs to carry the flow on.

/** A flow's own counters, kept across generations. */
export interface FlowCounters {
  /** When its first datagram came (ms since the epoch). */
  startedAt: number;
  /** Datagrams from the client, and replies sent back to it. */
  in: number;
  out: number;
}

export interface FlowEnvelope extends FlowCounters {
  frontend: string;
  /** The receiver the client sends to (bind key): replies leave through it. */
  bind: string;
  /** The flow table's key, which also decides the thread that owns the flow. */
  key: string;
  client: { address: string; port: number; family: string };
  /** The server the upstream socket is connected to, by name and by the address it had then. */
  server: { name: string; address: string; port: number };
  /** Every generation that has held the flow, oldest first. */
  generations: number[];
}
