/**
 * Which thread reads a UDP receiver. Until datagrams can be redispatched to the thread that owns
 * their flow, one thread of the generation reads each UDP socket, so that every datagram of a flow
 * meets the same flow table: thread 0 of group 0. The master sends UDP sockets to it alone.
 */
export function ownsDatagrams(id: { group: number; thread: number }): boolean {
  return id.group === 0 && id.thread === 0;
}
