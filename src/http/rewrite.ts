import type { HttpOptions } from '../config/types';
import type { Fields } from './fields';
import type { RequestHead } from './request-head';
import type { ResponseHead } from './response-head';

/**
 * Hop-by-hop fields (RFC 9110 7.6.1): they describe one connection, so the proxy drops them and
 * writes its own. Transfer-Encoding is among them: the proxy states the framing it sends.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'http2-settings']);

/** Fields a Connection token may not remove: dropping them would change the framing or the target. */
const PROTECTED = new Set(['content-length', 'host']);

/** Whether a field of this lower-case name goes on, given the message's Connection tokens. */
export function forwarded(name: string, connection: readonly string[]): boolean {
  return !HOP_BY_HOP.has(name) && (connection.length === 0 || PROTECTED.has(name) || !connection.includes(name));
}

/** Who asked, as the X-Forwarded-* and Forwarded fields tell the server. */
export interface ClientInfo {
  address: string | undefined;
  proto: 'http' | 'https';
  /** The subject of the client's certificate, when one was asked for and verified. */
  certSubject?: string;
}

/**
 * The head the server gets: the request line in HTTP/1.1, the end-to-end fields, the X-Forwarded-*
 * and Forwarded fields the frontend adds, and the framing the body keeps (a chunked body goes on
 * chunked). An HTTP/1.0 request without Host gets the server's address as Host.
 */
export function serverRequestHead(req: RequestHead, opts: HttpOptions, client: ClientInfo, server: { readonly host: string; readonly port: number }): string {
  const { fields, connection } = req;
  const addXff = opts.xForwardedFor && client.address !== undefined;
  let head = `${req.method} ${req.target} HTTP/1.1\r\n`;
  for (let i = 0; i < fields.length; i++) {
    const name = fields.name(i);
    if (!forwarded(name, connection) || (addXff && name === 'x-forwarded-for') || (opts.xForwardedProto && name === 'x-forwarded-proto')) continue;
    // Only ferry says who the certificate named: a client's own field would be a forgery.
    if (opts.xClientCertSubject && name === 'x-client-cert-subject') continue;
    head += `${fields.raw(i)}: ${fields.value(i)}\r\n`;
  }
  if (req.minor === 0 && fields.get('host') === undefined) head += `Host: ${server.host}:${server.port}\r\n`;
  if (addXff) head += `X-Forwarded-For: ${appended(fields, 'x-forwarded-for', client.address!)}\r\n`;
  if (opts.xForwardedProto) head += `X-Forwarded-Proto: ${client.proto}\r\n`;
  if (opts.forwarded) head += `Forwarded: ${appended(fields, 'forwarded', forwardedElement(client))}\r\n`;
  if (opts.xClientCertSubject && client.certSubject !== undefined) head += `X-Client-Cert-Subject: ${client.certSubject}\r\n`;
  if (req.framing.kind === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  if (req.upgrade !== undefined) head += `Connection: upgrade\r\nUpgrade: ${req.upgrade}\r\n`;
  return head + '\r\n';
}

/** How the proxy frames a response body for the client. */
export type ClientFraming = 'as-is' | 'chunked' | 'close';

/**
 * The head the client gets: the status line in HTTP/1.1, the end-to-end fields, the framing the
 * proxy sends the body with, and whether the connection stays open (said explicitly to HTTP/1.0
 * clients, which close by default, and when it closes).
 */
export function clientResponseHead(res: ResponseHead, framing: ClientFraming, keepAlive: boolean, clientMinor: number): string {
  let head = `HTTP/1.1 ${res.status} ${res.reason}\r\n`;
  const { fields, connection } = res;
  for (let i = 0; i < fields.length; i++) if (forwarded(fields.name(i), connection)) head += `${fields.raw(i)}: ${fields.value(i)}\r\n`;
  if (framing === 'chunked' || (framing === 'as-is' && res.framing.kind === 'chunked')) head += 'Transfer-Encoding: chunked\r\n';
  if (!keepAlive) head += 'Connection: close\r\n';
  else if (clientMinor === 0) head += 'Connection: keep-alive\r\n';
  return head + '\r\n';
}

/**
 * The head of a response that turns the connection into a tunnel: a 101 to an Upgrade (which
 * names the protocol again) or a 2xx to CONNECT (which has no body, hence no framing fields).
 */
export function tunnelHead(res: ResponseHead): string {
  let head = `HTTP/1.1 ${res.status} ${res.reason}\r\n${res.fields.serialize((name) => name !== 'content-length' && forwarded(name, res.connection))}`;
  const upgrade = res.fields.get('upgrade');
  if (res.status === 101 && upgrade !== undefined) head += `Connection: upgrade\r\nUpgrade: ${upgrade}\r\n`;
  return head + '\r\n';
}

/** An interim (1xx) response, relayed to the client as the server sent it but for hop-by-hop fields. */
export function interimHead(res: ResponseHead): string {
  return `HTTP/1.1 ${res.status} ${res.reason}\r\n${res.fields.serialize((name) => forwarded(name, res.connection))}\r\n`;
}

/** `value` after the values of every `name` field, comma-separated (one pass; no list made). */
function appended(fields: Fields, name: string, value: string): string {
  let before: string | undefined;
  for (let i = 0; i < fields.length; i++) if (fields.name(i) === name) before = before === undefined ? fields.value(i) : `${before}, ${fields.value(i)}`;
  return before === undefined ? value : `${before}, ${value}`;
}

/** RFC 7239: an IPv6 address is quoted and bracketed. */
function forwardedElement(client: ClientInfo): string {
  const address = client.address ?? 'unknown';
  const node = address.includes(':') ? `"[${address}]"` : address;
  return `for=${node};proto=${client.proto}`;
}
