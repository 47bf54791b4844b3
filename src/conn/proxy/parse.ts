// The PROXY protocol header (HAProxy's proxy-protocol.txt, v1 text and v2 binary), parsed by hand:
// strict, and without a copy of the bytes it reads. The reader (reader.ts) feeds it what has come so
// far; it answers with the header and its length, "more", or why the bytes are no header at all.

import { isIPv4, isIPv6 } from 'node:net';
import type { ProxyEnds } from '../../proto/proxy-ends';

export type Parsed = { ends: ProxyEnds; length: number } | { more: true } | { error: string };

/** v1's longest line, "\r\n" included (proxy-protocol.txt 2.1). */
export const V1_MAX = 107;
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const V2_FIXED = 16;
const MORE = { more: true } as const;

/** Parses the header at the start of `buf`. */
export function parseProxyHeader(buf: Buffer): Parsed {
  if (startsLike(buf, V2_SIGNATURE)) return buf.length < V2_FIXED ? MORE : parseV2(buf);
  if (startsLike(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? MORE : parseV1(buf);
  return { error: `no PROXY header: the connection began with ${quote(buf)}` };
}

/** `buf` is `prefix`, or as much of it as has come. */
function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.compare(prefix, 0, n, 0, n) === 0;
}

function parseV1(buf: Buffer): Parsed {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end === -1 ? buf.length >= V1_MAX : end + 2 > V1_MAX) return { error: `PROXY v1 header longer than ${V1_MAX} bytes` };
  if (end === -1) return MORE;
  const fields = buf.toString('latin1', V1_PREFIX.length, end).split(' ');
  if (fields[0] === 'UNKNOWN') return { ends: {}, length: end + 2 };
  if (fields.length !== 5) return { error: `PROXY v1 header ${quote(buf.subarray(0, end))}: expected "PROXY TCP4|TCP6 SRC DST SPORT DPORT"` };
  const [family, src, dst, sport, dport] = fields;
  const valid = family === 'TCP4' ? isIPv4 : family === 'TCP6' ? isIPv6 : undefined;
  if (valid === undefined) return { error: `PROXY v1 header: unknown protocol ${quote(Buffer.from(family, 'latin1'))} (expected TCP4, TCP6 or UNKNOWN)` };
  const sp = port(sport);
  const dp = port(dport);
  if (!valid(src) || !valid(dst) || sp === undefined || dp === undefined) return { error: `PROXY v1 header ${quote(buf.subarray(0, end))}: bad ${family} address or port` };
  return { ends: { source: { address: src, port: sp }, destination: { address: dst, port: dp } }, length: end + 2 };
}

/** A decimal port without leading zeros (the spec's form), 0-65535. */
function port(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

const LOCAL = 0x0;
const PROXY = 0x1;
/** Address block sizes by family (the high nibble of byte 13). */
const INET = 0x1;
const INET6 = 0x2;
const UNIX = 0x3;
const TLV_ALPN = 0x01;
const TLV_AUTHORITY = 0x02;
const TLV_UNIQUE_ID = 0x05;

function parseV2(buf: Buffer): Parsed {
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return { error: `PROXY v2 header: version ${verCmd >> 4}, expected 2` };
  const command = verCmd & 0xf;
  if (command !== LOCAL && command !== PROXY) return { error: `PROXY v2 header: unknown command 0x${command.toString(16)}` };
  const length = V2_FIXED + buf.readUInt16BE(14);
  if (buf.length < length) return MORE;
  const family = buf[13] >> 4;
  const transport = buf[13] & 0xf;
  if (family > UNIX || transport > 2) return { error: `PROXY v2 header: unknown address family 0x${buf[13].toString(16).padStart(2, '0')}` };
  const block = family === INET ? 12 : family === INET6 ? 36 : family === UNIX ? 216 : 0;
  if (length - V2_FIXED < block) return { error: `PROXY v2 header: ${length - V2_FIXED} bytes of addresses, family 0x${buf[13].toString(16).padStart(2, '0')} needs ${block}` };
  // LOCAL: the balancer's own connection (its health check); its addresses, if any, are to be ignored.
  const ends: ProxyEnds = command === PROXY ? addresses(buf, family) : {};
  const tlvs = parseTlvs(buf, V2_FIXED + block, length, ends);
  return tlvs ?? { ends, length };
}

function addresses(buf: Buffer, family: number): ProxyEnds {
  if (family === INET) return { source: { address: ipv4(buf, 16), port: buf.readUInt16BE(24) }, destination: { address: ipv4(buf, 20), port: buf.readUInt16BE(26) } };
  if (family === INET6) return { source: { address: ipv6(buf, 16), port: buf.readUInt16BE(48) }, destination: { address: ipv6(buf, 32), port: buf.readUInt16BE(50) } };
  // UNSPEC, or Unix sockets: no address the proxy could use as a client's.
  return {};
}

/** Fills `ends` with the TLVs kept; an error when one runs past the header. */
function parseTlvs(buf: Buffer, from: number, end: number, ends: ProxyEnds): { error: string } | undefined {
  for (let at = from; at < end; ) {
    if (at + 3 > end) return { error: 'PROXY v2 header: truncated TLV' };
    const type = buf[at];
    const size = buf.readUInt16BE(at + 1);
    const value = at + 3;
    if (value + size > end) return { error: `PROXY v2 header: TLV 0x${type.toString(16)} of ${size} bytes runs past the header` };
    if (type === TLV_ALPN) ends.alpn = buf.toString('latin1', value, value + size);
    else if (type === TLV_AUTHORITY) ends.authority = buf.toString('utf8', value, value + size);
    else if (type === TLV_UNIQUE_ID) ends.uniqueId = buf.toString('hex', value, value + size);
    at = value + size;
  }
  return undefined;
}

function ipv4(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

/** The canonical text form (RFC 5952), as node:net gives remoteAddress. */
function ipv6(buf: Buffer, at: number): string {
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(buf.readUInt16BE(at + 2 * i).toString(16));
  return canonical(words);
}

function canonical(words: string[]): string {
  // The longest run of two or more zero words becomes "::".
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (best === -1) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLength).join(':')}`;
}

/** The first bytes of `buf` for a message, non-printable ones escaped. */
function quote(buf: Buffer): string {
  return JSON.stringify(buf.toString('latin1', 0, Math.min(buf.length, 32))) + (buf.length > 32 ? '...' : '');
}
