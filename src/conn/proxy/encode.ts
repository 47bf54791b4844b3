// The PROXY protocol header ferry writes to a server (sendProxy) before any byte of the client, and
// the LOCAL / UNKNOWN one of its health checks, which speak for no client.

import { isIPv4 } from 'node:net';
import type { Endpoint, ProxyEnds } from '../../proto/proxy-ends';

export type ProxyVersion = 'v1' | 'v2';

const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const V1_UNKNOWN = Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
/** v2 LOCAL, family UNSPEC, no address block. */
const V2_LOCAL = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);

/** The header for a connection between `ends`; without both ends (a Unix client, a health check): LOCAL or UNKNOWN. */
export function encodeProxyHeader(version: ProxyVersion, ends: ProxyEnds | undefined): Buffer {
  const source = ends?.source;
  const destination = ends?.destination;
  if (source === undefined || destination === undefined) return version === 'v1' ? V1_UNKNOWN : V2_LOCAL;
  // A client and an address it reached must be of one family; an IPv4 client of an IPv6 socket comes mapped.
  const v4 = isIPv4(unmapped(source.address)) && isIPv4(unmapped(destination.address));
  return version === 'v1' ? v1(v4, source, destination) : v2(v4, source, destination);
}

function v1(v4: boolean, source: Endpoint, destination: Endpoint): Buffer {
  const [src, dst] = v4 ? [unmapped(source.address), unmapped(destination.address)] : [mapped(source.address), mapped(destination.address)];
  return Buffer.from(`PROXY ${v4 ? 'TCP4' : 'TCP6'} ${src} ${dst} ${source.port} ${destination.port}\r\n`, 'latin1');
}

function v2(v4: boolean, source: Endpoint, destination: Endpoint): Buffer {
  const size = v4 ? 4 : 16;
  const buf = Buffer.alloc(16 + 2 * size + 4);
  V2_SIGNATURE.copy(buf);
  buf[12] = 0x21; // version 2, PROXY
  buf[13] = v4 ? 0x11 : 0x21; // TCP over IPv4 or IPv6
  buf.writeUInt16BE(2 * size + 4, 14);
  writeAddress(buf, 16, v4, source.address);
  writeAddress(buf, 16 + size, v4, destination.address);
  buf.writeUInt16BE(source.port, 16 + 2 * size);
  buf.writeUInt16BE(destination.port, 18 + 2 * size);
  return buf;
}

function writeAddress(buf: Buffer, at: number, v4: boolean, address: string): void {
  if (v4) {
    unmapped(address).split('.').forEach((byte, i) => (buf[at + i] = Number(byte)));
    return;
  }
  ipv6Words(mapped(address)).forEach((word, i) => buf.writeUInt16BE(word, at + 2 * i));
}

/** The eight 16-bit words of an IPv6 address in text, "::" and a dotted IPv4 tail included. */
function ipv6Words(address: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  let text = address;
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${address.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((w) => parseInt(w, 16));
}

/** "::ffff:1.2.3.4" (an IPv4 client of a dual-stack socket) as "1.2.3.4"; anything else as it is. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** An IPv4 address as IPv6 (mapped), for a header whose other end is IPv6. */
function mapped(address: string): string {
  return isIPv4(address) ? `::ffff:${address}` : address;
}
