/** A UDP frontend's counters in one thread; the master sums them over threads for `show stat`. */
export interface DatagramCounters {
  /** Flows live now, and created since start: those this thread owns (with flowKey "none", one per datagram). */
  flows: number;
  flowsTotal: number;
  /** Datagrams this thread read from clients (whoever owns their flow), and replies it sent back. */
  in: number;
  out: number;
  /** Datagrams dropped: new flows past maxFlows, no usable server, or an upstream not ready in time. */
  dropped: number;
  /** Datagrams dropped because they would have started a flow past maxFlowRate. */
  rateLimited: number;
  /** Datagrams dropped because no flow key could be read from them (flowKey "quic-dcid": not QUIC). */
  malformed: number;
  /** Datagrams read here and sent to the thread that owns their flow. */
  redispatched: number;
  /** Datagrams another thread read and sent here, to a flow this thread owns. */
  fromThreads: number;
  /** Redispatched datagrams lost on the way: the owner's group gone or restarting, a malformed packet, a stopped handler. */
  redispatchDropped: number;
}

export function noDatagrams(): DatagramCounters {
  return { flows: 0, flowsTotal: 0, in: 0, out: 0, dropped: 0, rateLimited: 0, malformed: 0, redispatched: 0, fromThreads: 0, redispatchDropped: 0 };
}

export function addDatagrams(into: DatagramCounters, c: DatagramCounters): void {
  into.flows += c.flows;
  into.flowsTotal += c.flowsTotal;
  into.in += c.in;
  into.out += c.out;
  into.dropped += c.dropped;
  into.rateLimited += c.rateLimited;
  into.malformed += c.malformed;
  into.redispatched += c.redispatched;
  into.fromThreads += c.fromThreads;
  into.redispatchDropped += c.redispatchDropped;
}
