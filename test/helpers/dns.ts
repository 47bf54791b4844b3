import { createSocket } from 'node:dgram';

/** A DNS server on 127.0.0.1 (UDP) answering A queries from a table the test changes as it goes. */
export interface DnsServer {
  port: number;
  /** "127.0.0.1:PORT", as a nameserver in the configuration. */
  address: string;
  /** Queries received so far, by lower-case name. */
  queries: Map<string, number>;
  /** Gives `name` this A record, or with `undefined` removes it: queries for it then get NXDOMAIN. */
  set(name: string, address: string | undefined): void;
  close(): Promise<void>;
}

const TYPE_A = 1;
const CLASS_IN = 1;
const NXDOMAIN = 3;
/** Answers must not be kept: the test changes them. */
const TTL = 0;

/**
 * Just enough DNS (RFC 1035) for a test: one question per query, read from the query; an A record
 * for a name in the table, an empty answer for other types of a known name, NXDOMAIN otherwise.
 */
export async function dnsServer(records: Record<string, string>): Promise<DnsServer> {
  const table = new Map(Object.entries(records).map(([name, address]) => [name.toLowerCase(), address]));
  const queries = new Map<string, number>();
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const question = readQuestion(query);
    if (question === undefined) return;
    queries.set(question.name, (queries.get(question.name) ?? 0) + 1);
    const address = table.get(question.name);
    socket.send(answer(query, question.end, address, question.type), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    queries,
    set: (name, address) => (address === undefined ? table.delete(name.toLowerCase()) : table.set(name.toLowerCase(), address)),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** The question's name (labels after the 12-byte header), type, and where the question ends. */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const length = query[at];
    labels.push(query.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  const end = at + 5;
  if (end > query.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(at + 1), end };
}

function answer(query: Buffer, questionEnd: number, address: string | undefined, type: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR (a response), AA (authoritative), RD copied from the query, RA, and the response code.
  const rd = query.readUInt16BE(2) & 0x0100;
  header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | (address === undefined ? NXDOMAIN : 0), 2);
  header.writeUInt16BE(1, 4);
  const records = address !== undefined && type === TYPE_A ? [aRecord(address)] : [];
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}

function aRecord(address: string): Buffer {
  const record = Buffer.alloc(16);
  // The name is a pointer to the question's, at offset 12.
  record.writeUInt16BE(0xc00c, 0);
  record.writeUInt16BE(TYPE_A, 2);
  record.writeUInt16BE(CLASS_IN, 4);
  record.writeUInt32BE(TTL, 6);
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
  return record;
}
