import type { IncomingHttpHeaders } from 'node:http2';
import { Fields } from './fields';
import { HttpRefusal, refuse } from './refusal';
import { CHUNKED, contentLength, NO_BODY, type Framing, type RequestHead } from './request-head';

/**
 * Fields that describe one HTTP/1.1 connection: an HTTP/2 message with any of them is malformed
 * (RFC 9113 8.2.2), as is TE with anything but "trailers". nghttp2 refuses them first; this is
 * the gateway's own check, so no parser's leniency reaches a server.
 */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** An HTTP/2 request as an HTTP/1.1 request head, and the size of its field section (for the log and the limit). */
export interface H2Request {
  head: RequestHead;
  bytes: number;
}

/**
 * The HTTP/1.1 head of an HTTP/2 request: the request line from :method and :path, Host from
 * :authority (a Host field that names another authority is refused), the cookie fields joined
 * into one (RFC 9113 8.2.3), and a framing the server can read: the Content-Length the client
 * gave, none when the headers ended the stream, chunked otherwise. `maxHead` bounds the field
 * section as it bounds an HTTP/1.1 head (431).
 */
export function h2Request(headers: IncomingHttpHeaders, raw: readonly string[], ended: boolean, maxHead: number): H2Request {
  const method = headers[':method'] ?? refuse('no :method');
  if (method === 'CONNECT') throw new HttpRefusal(501, 'CONNECT over HTTP/2 is not supported');
  const target = headers[':path'] ?? refuse('no :path');
  const authority = headers[':authority'];
  const fields = new Fields();
  if (authority !== undefined) fields.add('host', authority);
  const cookies: string[] = [];
  let bytes = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    bytes += name.length + value.length + 4;
    if (bytes > maxHead) throw new HttpRefusal(431, 'request fields too large');
    if (name.charCodeAt(0) === 0x3a) continue;
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value.toLowerCase() !== 'trailers')) refuse(`the connection-specific field ${name} in an HTTP/2 request`);
    if (name === 'cookie') cookies.push(value);
    else if (name !== 'host') fields.add(name, value);
    else if (authority === undefined) fields.add(name, value);
    else if (value.toLowerCase() !== authority.toLowerCase()) refuse('a Host field that differs from :authority');
  }
  if (cookies.length > 0) fields.add('cookie', cookies.join('; '));
  if (fields.count('host') !== 1) refuse(fields.count('host') === 0 ? 'an HTTP/2 request without :authority or Host' : 'more than one Host field');
  const head: RequestHead = { method, target, minor: 1, fields, framing: framing(fields, ended), connection: [], keepAlive: true, upgrade: undefined };
  return { head, bytes };
}

function framing(fields: Fields, ended: boolean): Framing {
  if (ended) return NO_BODY;
  const lengths = fields.count('content-length');
  if (lengths === 0) return CHUNKED;
  if (lengths > 1) refuse('more than one Content-Length');
  const length = contentLength(fields.get('content-length')!);
  if (length === undefined) refuse('a Content-Length that is not a number');
  return length === 0 ? NO_BODY : { kind: 'length', length };
}

/** The fields of an HTTP/2 trailer section, for a chunked HTTP/1.1 body: pseudo-fields and connection-specific ones dropped. */
export function h2Trailers(headers: IncomingHttpHeaders): Fields {
  const fields = new Fields();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || CONNECTION_SPECIFIC.has(name) || name === 'te') continue;
    for (const v of Array.isArray(value) ? value : [value]) fields.add(name, v);
  }
  return fields;
}
