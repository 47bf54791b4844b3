/** A UDP frontend's counters in one thread; the master sums them over threads for `show stat`. */
export interface DatagramCounters {
  /** Flows live now, and created since start (with flowKey "none", one per datagram). */
  flows: number;
  flowsTotal: number;
  /** Datagrams from clients, and replies sent back to them. */
  in: number;
  out: number;
  /** Datagrams dropped: new flows past maxFlows, no usable server, or an upstream not ready in time. */
  dropped: number;
  /** Datagrams dropped because they would have started a flow past maxFlowRate. */
  rateLimited: number;
  /** Datagrams dropped because no flow key could be read from them (flowKey "quic-dcid": not QUIC). */
  malformed: number;
}

export function noDatagrams(): DatagramCounters {
  return { flows: 0, flowsTotal: 0, in: 0, out: 0, dropped: 0, rateLimited: 0, malformed: 0 };
}

export function addDatagrams(into: DatagramCounters, c: DatagramCounters): void {
  into.flows += c.flows;
  into.flowsTotal += c.flowsTotal;
  into.in += c.in;
  into.out += c.out;
  into.dropped += c.dropped;
  into.rateLimited += c.rateLimited;
  into.malformed += c.malformed;
}
