// Parsing of the two address syntaxes: where ferry listens (binds) and where servers live.
// Errors are short reasons; callers prefix them with the text the user wrote.

import * as net from 'node:net';
import * as path from 'node:path';
import type { BindAddress } from './types';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface ServerAddress {
  host: string;
  port: number;
}

/** Linux sun_path holds 108 bytes, one of which is the terminating (or, for abns, leading) NUL. */
const SOCKET_PATH_MAX_BYTES = 107;
/** sd_listen_fds(3): the service manager passes its sockets from fd 3 on (SD_LISTEN_FDS_START). */
export const FIRST_INHERITED_FD = 3;
const MAX_INHERITED_NAME = 255;
const MAX_FD = 2 ** 31 - 1;

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

export function parseBindAddress(text: string, cwd: string = process.cwd()): Parsed<BindAddress> {
  const at = text.indexOf('@');
  if (at < 0) return parseTcpBind(text);
  return parsePrefixedBind(text.slice(0, at), text.slice(at + 1), cwd);
}

export function parseServerAddress(text: string): Parsed<ServerAddress> {
  const split = splitHostPort(text, '127.0.0.1:9000');
  if (!split.ok) return split;
  const { host, portText, bracketed } = split.value;
  const port = parsePort(portText, 1);
  if (!port.ok) return port;
  const checked = bracketed ? checkIPv6(host) : checkServerHost(host);
  return checked.ok ? ok({ host: checked.value, port: port.value }) : checked;
}

/** The port DNS servers listen on when a nameserver is written without one. */
const DNS_PORT = 53;

/**
 * A DNS server to ask for server names: an IP address, with a port or not (53). Returned as
 * "ip:port" or "[ipv6]:port", the forms node's dns.Resolver#setServers takes.
 */
export function parseNameserver(text: string): Parsed<string> {
  if (net.isIPv4(text)) return ok(`${text}:${DNS_PORT}`);
  if (net.isIPv6(text)) return ok(`[${text}]:${DNS_PORT}`);
  const split = splitHostPort(text, '127.0.0.53:53');
  if (!split.ok) return split;
  const { host, portText, bracketed } = split.value;
  const port = parsePort(portText, 1);
  if (!port.ok) return port;
  if (bracketed) {
    const v6 = checkIPv6(host);
    return v6.ok ? ok(`[${v6.value}]:${port.value}`) : v6;
  }
  return net.isIPv4(host) ? ok(`${host}:${port.value}`) : fail(`"${host}" is not an IP address (a nameserver is given by address)`);
}

/** Identity of a bound address, independent of how it was spelled ("*:80" and "0.0.0.0:80" agree). */
export function bindKey(address: BindAddress): string {
  switch (address.kind) {
    case 'tcp':
      return address.family === 6 ? `tcp:[${address.host}]:${address.port}` : `tcp:${address.host}:${address.port}`;
    case 'unix':
      return `unix:${address.path}`;
    case 'abns':
      return `abns:${address.name}`;
    case 'fd':
      return `fd:${address.name}`;
    case 'udp':
      return address.family === 6 ? `udp:[${address.host}]:${address.port}` : `udp:${address.host}:${address.port}`;
  }
}

function parsePrefixedBind(prefix: string, rest: string, cwd: string): Parsed<BindAddress> {
  switch (prefix) {
    case 'unix':
      return parseUnixPath(rest, cwd);
    case 'abns':
      return parseAbstractName(rest);
    case 'udp':
      return parseUdpBind(rest);
    case 'udp4':
    case 'udp6':
      return fail(`write "udp@${rest}": the address says the family`);
    case 'fd':
      return parseInheritedName(rest);
    default:
      return fail(`unknown address type "${prefix}@" (expected unix@, abns@, udp@ or fd@)`);
  }
}

function parseUnixPath(rest: string, cwd: string): Parsed<BindAddress> {
  if (rest === '') return fail('unix@ needs a socket path, e.g. "unix@/run/ferry.sock"');
  if (rest.includes('\0')) return fail('the socket path contains a NUL character');
  const resolved = path.resolve(cwd, rest);
  const tooLong = socketNameTooLong(resolved, 'socket path');
  return tooLong ? fail(tooLong) : ok({ kind: 'unix', path: resolved });
}

function parseAbstractName(name: string): Parsed<BindAddress> {
  if (process.platform !== 'linux') return fail('abns@ (abstract namespace) binds exist only on Linux');
  if (name === '') return fail('abns@ needs a socket name, e.g. "abns@ferry"');
  const tooLong = socketNameTooLong(name, 'abstract socket name');
  return tooLong ? fail(tooLong) : ok({ kind: 'abns', name });
}

/**
 * A socket passed by the service manager: its name (LISTEN_FDNAMES, systemd's FileDescriptorName=),
 * or, when all digits, its fd number, for managers that pass no names.
 */
function parseInheritedName(name: string): Parsed<BindAddress> {
  if (name === '') return fail('fd@ needs the name of a socket passed by the service manager, e.g. "fd@web" (FileDescriptorName= in the .socket unit)');
  if (/^\d+$/.test(name)) {
    const fd = Number(name);
    if (fd < FIRST_INHERITED_FD) return fail(`fd ${fd} is not a socket passed by the service manager: those start at fd ${FIRST_INHERITED_FD}`);
    if (fd > MAX_FD) return fail(`${name} is not an fd number`);
    return ok({ kind: 'fd', name: String(fd) });
  }
  // The limits systemd puts on FileDescriptorName=; ":" separates the names in LISTEN_FDNAMES.
  if (name.includes(':')) return fail('a socket name cannot contain ":"');
  if (/[\x00-\x1f\x7f]/.test(name)) return fail('the socket name contains a control character');
  if (name.length > MAX_INHERITED_NAME) return fail(`the socket name is ${name.length} characters long; systemd allows at most ${MAX_INHERITED_NAME}`);
  return ok({ kind: 'fd', name });
}

function socketNameTooLong(name: string, what: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes <= SOCKET_PATH_MAX_BYTES) return undefined;
  return `the ${what} is ${bytes} bytes long; at most ${SOCKET_PATH_MAX_BYTES} fit in a socket address`;
}

/**
 * A UDP bind names one address. A socket on a wildcard address would have to answer each datagram
 * from the address its client targeted (IP_PKTINFO), which node's dgram cannot do: replies would
 * leave from whatever address the routing table picks, and clients would drop them.
 */
function parseUdpBind(rest: string): Parsed<BindAddress> {
  const parsed = parseTcpBind(rest);
  if (!parsed.ok || parsed.value.kind !== 'tcp') return parsed;
  const { host, port, family } = parsed.value;
  if (host === '0.0.0.0' || host === '::') {
    return fail(`a UDP bind cannot take every address (replies would not come from the address the client sent to); bind each address instead, e.g. "udp@127.0.0.1:${port}"`);
  }
  return ok({ kind: 'udp', host, port, family });
}

function parseTcpBind(text: string): Parsed<BindAddress> {
  // ":::8080" is the conventional spelling of "every IPv6 address", which brackets would make "[::]:8080".
  const split = text.startsWith(':::')
    ? ok({ host: '::', portText: text.slice(3), bracketed: true })
    : splitHostPort(text, '127.0.0.1:8080');
  if (!split.ok) return split;
  const { host, portText, bracketed } = split.value;
  const port = parsePort(portText, 0);
  if (!port.ok) return port;
  if (bracketed) {
    const v6 = checkIPv6(host);
    return v6.ok ? ok({ kind: 'tcp', host: v6.value, port: port.value, family: 6, v6only: false }) : v6;
  }
  const v4 = bindIPv4Host(host, port.value);
  return v4.ok ? ok({ kind: 'tcp', host: v4.value, port: port.value, family: 4, v6only: false }) : v4;
}

function bindIPv4Host(host: string, port: number): Parsed<string> {
  if (host === '*') return ok('0.0.0.0');
  if (host === 'localhost') return ok('127.0.0.1');
  if (net.isIPv4(host)) return ok(host);
  if (host === '') {
    return fail(`missing host (use "*:${port}" for every IPv4 address or ":::${port}" for every address)`);
  }
  return fail(`"${host}" is not an IP address (binds take IP addresses, "*", "localhost" or ":::port"; names are not resolved)`);
}

interface HostPort {
  host: string;
  portText: string;
  bracketed: boolean;
}

function splitHostPort(text: string, example: string): Parsed<HostPort> {
  if (text.startsWith('[')) return splitBracketed(text);
  const colon = text.lastIndexOf(':');
  if (colon < 0) return fail(`missing ":port" (e.g. "${example}")`);
  const host = text.slice(0, colon);
  if (host.includes(':')) return fail('IPv6 addresses need brackets, e.g. "[::1]:8080"');
  return ok({ host, portText: text.slice(colon + 1), bracketed: false });
}

function splitBracketed(text: string): Parsed<HostPort> {
  const close = text.indexOf(']');
  if (close < 0) return fail('missing "]" after the IPv6 address');
  const after = text.slice(close + 1);
  if (!after.startsWith(':')) return fail('missing ":port" after "]"');
  return ok({ host: text.slice(1, close), portText: after.slice(1), bracketed: true });
}

function parsePort(text: string, min: 0 | 1): Parsed<number> {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return port >= min && port <= 65535 ? ok(port) : fail(`port must be ${min}-65535`);
}

/** Canonical form, so that "[::1]" and "[0:0::1]" are recognised as the same address; a zone is kept. */
function checkIPv6(host: string): Parsed<string> {
  if (!net.isIPv6(host)) {
    return fail(net.isIPv4(host) ? 'IPv4 addresses are written without brackets' : `"${host}" is not an IPv6 address`);
  }
  const [address, zone] = host.split('%');
  const canonical = new net.SocketAddress({ address, family: 'ipv6' }).address;
  return ok(zone === undefined ? canonical : `${canonical}%${zone}`);
}

function checkServerHost(host: string): Parsed<string> {
  if (host === '') return fail('missing host');
  if (net.isIPv4(host)) return ok(host);
  // The resolver would read "10.1" as 10.0.0.1; a dotted number that is not a full IPv4 address is a typo.
  if (/^[\d.]+$/.test(host)) return fail(`"${host}" is not a valid IPv4 address`);
  return HOST_NAME.test(host) ? ok(host) : fail(`"${host}" is neither an IP address nor a host name`);
}
