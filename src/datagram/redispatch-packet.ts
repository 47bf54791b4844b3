// The wire form of a datagram redispatched to the thread that owns its flow: the same bytes cross a
// MessagePort within a worker and a Unix datagram socket between workers.

/** Magic and version in one byte: a packet of another version (or not a packet at all) is refused. */
const MAGIC = 0xf1;
/** magic, thread, frontend (2), bind (2), family, address length: then the address, port (2), key length (2), key, payload. */
const FIXED = 8;

export interface RedispatchedClient {
  family: 4 | 6;
  address: string;
  port: number;
}

export interface Redispatched {
  /** The owner thread, by its index in its group. */
  thread: number;
  /** The frontend's index in the configuration, and the bind's index in the frontend: the same in every thread of a generation. */
  frontend: number;
  bind: number;
  client: RedispatchedClient;
  key: string;
  data: Uint8Array;
}

export function encodeRedispatched(d: Redispatched): Uint8Array {
  const address = Buffer.from(d.client.address, 'latin1');
  const key = Buffer.from(d.key, 'utf8');
  if (address.length > 0xff || key.length > 0xffff) throw new RangeError('client address or flow key too long to redispatch');
  // Its own ArrayBuffer, of its own size: a MessagePort copies the whole buffer behind a view.
  const packet = Buffer.allocUnsafeSlow(FIXED + address.length + 4 + key.length + d.data.length);
  packet[0] = MAGIC;
  packet[1] = d.thread;
  packet.writeUInt16BE(d.frontend, 2);
  packet.writeUInt16BE(d.bind, 4);
  packet[6] = d.client.family;
  packet[7] = address.length;
  let at = FIXED + address.copy(packet, FIXED);
  at = packet.writeUInt16BE(d.client.port, at);
  at = packet.writeUInt16BE(key.length, at);
  at += key.copy(packet, at);
  packet.set(d.data, at);
  return packet;
}

/** The owner thread a packet names, or why it is no packet of ours: enough for a coordinator to route it. */
export function threadOf(packet: Uint8Array): number | string {
  if (packet.length < FIXED) return `truncated: ${packet.length} bytes, under the ${FIXED}-byte header`;
  if (packet[0] !== MAGIC) return `bad magic/version byte 0x${packet[0].toString(16)}`;
  return packet[1];
}

/** The packet's content, or why it is malformed (a string): never throws. */
export function decodeRedispatched(packet: Uint8Array): Redispatched | string {
  const thread = threadOf(packet);
  if (typeof thread === 'string') return thread;
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  const family = bytes[6];
  if (family !== 4 && family !== 6) return `bad address family ${family}`;
  const addressEnd = FIXED + bytes[7];
  if (bytes.length < addressEnd + 4) return 'truncated in the client address';
  const port = bytes.readUInt16BE(addressEnd);
  const keyEnd = addressEnd + 4 + bytes.readUInt16BE(addressEnd + 2);
  if (bytes.length < keyEnd) return 'truncated in the flow key';
  return {
    thread,
    frontend: bytes.readUInt16BE(2),
    bind: bytes.readUInt16BE(4),
    client: { family, address: bytes.toString('latin1', FIXED, addressEnd), port },
    key: bytes.toString('utf8', addressEnd + 4, keyEnd),
    data: bytes.subarray(keyEnd),
  };
}
