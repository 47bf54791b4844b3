// The wire form of datagrams redispatched to the thread that owns their flows: a batch of the
// datagrams one thread read in one event-loop turn for one owner thread and one frontend. The same
// bytes cross a MessagePort within a worker and a Unix datagram socket between workers: one message
// and one socket datagram per batch, not per datagram, is what makes redispatch cheap.

/** Magic and version in one byte: a packet of another version (or not a packet at all) is refused. */
const MAGIC = 0xf2;
/** magic, owner thread, frontend (2), datagram count (2); then the records. */
const HEADER = 6;
/** bind (2), family, address length; then the address, port (2), key length (2), key, data length (2), data. */
const RECORD_FIXED = 10;
/**
 * A batch grows to about this size before it is sent (a single datagram larger than it goes alone):
 * far under a Unix datagram socket's send buffer (208 KiB by default on Linux) and under the 65,535 bytes
 * that node-unix-socket reads a datagram into.
 */
export const BATCH_BYTES = 16 * 1024;

export interface RedispatchedClient {
  family: 4 | 6;
  address: string;
  port: number;
}

/** One datagram of a batch. */
export interface Redispatched {
  /** The bind's index in the frontend: the same in every thread of a generation. */
  bind: number;
  client: RedispatchedClient;
  key: string;
  data: Uint8Array;
}

export interface RedispatchBatch {
  /** The owner thread, by its index in its group. */
  thread: number;
  /** The frontend's index in the configuration: the same in every thread of a generation. */
  frontend: number;
  datagrams: Redispatched[];
}

/** The bytes a datagram takes in a batch. */
export function recordSize(d: Redispatched): number {
  // An address is ASCII: one byte a character.
  return RECORD_FIXED + d.client.address.length + Buffer.byteLength(d.key, 'utf8') + d.data.length;
}

/** Encodes a batch into a buffer of its exact size, with an ArrayBuffer of its own: a MessagePort moves (or copies) exactly it. */
export function encodeBatch(b: RedispatchBatch): Uint8Array {
  if (b.datagrams.length === 0 || b.datagrams.length > 0xffff) throw new RangeError(`a batch holds 1 to 65535 datagrams, not ${b.datagrams.length}`);
  let size = HEADER;
  for (const d of b.datagrams) size += recordSize(d);
  const packet = Buffer.allocUnsafeSlow(size);
  packet[0] = MAGIC;
  packet[1] = b.thread;
  packet.writeUInt16BE(b.frontend, 2);
  packet.writeUInt16BE(b.datagrams.length, 4);
  let at = HEADER;
  for (const d of b.datagrams) at = writeRecord(packet, at, d);
  return packet;
}

function writeRecord(packet: Buffer, at: number, d: Redispatched): number {
  const addressLength = d.client.address.length;
  const keyLength = Buffer.byteLength(d.key, 'utf8');
  if (addressLength > 0xff || keyLength > 0xffff || d.data.length > 0xffff) throw new RangeError('client address, flow key or datagram too long to redispatch');
  at = packet.writeUInt16BE(d.bind, at);
  packet[at++] = d.client.family;
  packet[at++] = addressLength;
  at += packet.write(d.client.address, at, addressLength, 'latin1');
  at = packet.writeUInt16BE(d.client.port, at);
  at = packet.writeUInt16BE(keyLength, at);
  at += packet.write(d.key, at, keyLength, 'utf8');
  at = packet.writeUInt16BE(d.data.length, at);
  packet.set(d.data, at);
  return at + d.data.length;
}

export interface BatchHeader {
  thread: number;
  frontend: number;
  count: number;
}

/** The header of the batch at `at`, or why it is no batch of ours. */
function batchHeader(bytes: Buffer, at: number): BatchHeader | string {
  if (bytes.length < at + HEADER) return `truncated: ${bytes.length - at} bytes, under the ${HEADER}-byte header`;
  if (bytes[at] !== MAGIC) return `bad magic/version byte 0x${bytes[at].toString(16)}`;
  const count = bytes.readUInt16BE(at + 4);
  if (count === 0) return 'a batch of no datagram';
  return { thread: bytes[at + 1], frontend: bytes.readUInt16BE(at + 2), count };
}

/**
 * The header of a batch whose every record is whole, checked without decoding them, or why it is
 * malformed. Never throws.
 */
export function checkBatch(packet: Uint8Array): BatchHeader | string {
  return whole(packet, undefined);
}

/** The batch's content (data as views into the packet), or why it is malformed: never throws. */
export function decodeBatch(packet: Uint8Array): RedispatchBatch | string {
  const datagrams: Redispatched[] = [];
  const header = whole(packet, datagrams);
  if (typeof header === 'string') return header;
  return { thread: header.thread, frontend: header.frontend, datagrams };
}

/**
 * Splits what a coordinator received from another group in one socket datagram, batches one after
 * the other, into those batches (each a copy with an ArrayBuffer of its own, to post on), checking
 * every record on the way; or says why it is malformed, and then delivers none. Never throws.
 */
export function splitBatches(packet: Uint8Array): { thread: number; batch: Uint8Array }[] | string {
  const bytes = asBuffer(packet);
  const batches: { thread: number; batch: Uint8Array }[] = [];
  for (let at = 0; at < bytes.length; ) {
    const walked = walk(bytes, at, undefined);
    if (typeof walked === 'string') return batches.length === 0 ? walked : `batch ${batches.length + 1}: ${walked}`;
    const batch = Buffer.allocUnsafeSlow(walked.end - at);
    bytes.copy(batch, 0, at, walked.end);
    batches.push({ thread: walked.header.thread, batch });
    at = walked.end;
  }
  if (batches.length === 0) return 'empty';
  return batches;
}

function asBuffer(packet: Uint8Array): Buffer {
  return Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
}

/** A packet that is exactly one batch. */
function whole(packet: Uint8Array, into: Redispatched[] | undefined): BatchHeader | string {
  const bytes = asBuffer(packet);
  const walked = walk(bytes, 0, into);
  if (typeof walked === 'string') return walked;
  if (walked.end !== bytes.length) return `${bytes.length - walked.end} bytes after the last of ${walked.header.count} datagrams`;
  return walked.header;
}

/** Walks the records of the batch at `start`, checking each one's lengths; decodes them into `into` when given. */
function walk(bytes: Buffer, start: number, into: Redispatched[] | undefined): { header: BatchHeader; end: number } | string {
  const header = batchHeader(bytes, start);
  if (typeof header === 'string') return header;
  let at = start + HEADER;
  for (let i = 0; i < header.count; i++) {
    const truncated = `truncated in datagram ${i + 1} of ${header.count}`;
    if (bytes.length < at + RECORD_FIXED) return truncated;
    const family = bytes[at + 2];
    if (family !== 4 && family !== 6) return `bad address family ${family} in datagram ${i + 1}`;
    const addressAt = at + 4;
    const portAt = addressAt + bytes[at + 3];
    if (bytes.length < portAt + 4) return truncated;
    const keyAt = portAt + 4;
    const lengthAt = keyAt + bytes.readUInt16BE(portAt + 2);
    if (bytes.length < lengthAt + 2) return truncated;
    const dataAt = lengthAt + 2;
    const end = dataAt + bytes.readUInt16BE(lengthAt);
    if (bytes.length < end) return truncated;
    into?.push({
      bind: bytes.readUInt16BE(at),
      client: { family, address: bytes.toString('latin1', addressAt, portAt), port: bytes.readUInt16BE(portAt) },
      key: bytes.toString('utf8', keyAt, lengthAt),
      data: bytes.subarray(dataAt, end),
    });
    at = end;
  }
  return { header, end: at };
}
