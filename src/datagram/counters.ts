import type { DatagramCounters } from '../proto/snapshot';

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
