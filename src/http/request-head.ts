import { latin1, SP, TOKEN, VISIBLE } from './chars';
import type { Fields } from './fields';
import { HeadReader } from './head-reader';
import { HttpRefusal, refuse } from './refusal';

/** How a message's body is delimited. */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export const NO_BODY: Framing = { kind: 'none' };
export const CHUNKED: Framing = { kind: 'chunked' };

/** A parsed, checked request head. */
export interface RequestHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x). */
  minor: number;
  fields: Fields;
  framing: Framing;
  /** The tokens of its Connection fields, lower case. */
  connection: string[];
  /** The client may send another request on this connection after this one. */
  keepAlive: boolean;
  /** The protocols of its Upgrade field, when its Connection field names it (HTTP/1.1 only). */
  upgrade: string | undefined;
}

const H = 0x48;
const T = 0x54;
const P = 0x50;
const SLASH = 0x2f;
const DOT = 0x2e;
const ONE = 0x31;

/**
 * A strict request-head reader (RFC 9112): a request line of token, target and HTTP/1.x, valid
 * field lines, and a framing that can be read only one way. A request line past the line limit gets
 * 414, a head past the head limit 431, anything else malformed 400.
 */
export class RequestHeadReader extends HeadReader {
  protected readonly skipsEmptyLines = true;
  private method = '';
  private target = '';
  private minor = 1;

  /** The head read last, checked; call after read() returned its end. */
  head(): RequestHead {
    const { fields, minor } = this;
    const framing = requestFraming(fields, minor);
    const hosts = fields.count('host');
    if (hosts > 1 || (hosts === 0 && minor === 1)) refuse(hosts > 1 ? 'more than one Host field' : 'an HTTP/1.1 request without Host');
    const connection = fields.list('connection');
    const keepAlive = minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
    const upgrade = minor === 1 && connection.includes('upgrade') ? fields.get('upgrade') : undefined;
    return { method: this.method, target: this.target, minor, fields, framing, connection, keepAlive, upgrade };
  }

  protected startLine(buf: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end && TOKEN[buf[i]] === 1) i++;
    if (i === start || buf[i] !== SP) refuse('a malformed method in the request line');
    const targetStart = ++i;
    while (i < end && VISIBLE[buf[i]] === 1) i++;
    if (i === targetStart || buf[i] !== SP) refuse('a malformed request target');
    this.minor = httpVersion(buf, i + 1, end);
    this.method = latin1(buf, start, targetStart - 1);
    this.target = latin1(buf, targetStart, i);
  }

  protected tooLong(startLine: boolean): HttpRefusal {
    return startLine ? new HttpRefusal(414, 'request line too long') : new HttpRefusal(431, 'a field line too long');
  }

  protected tooLarge(): HttpRefusal {
    return new HttpRefusal(431, 'request head too large');
  }
}

/** The minor version of "HTTP/1.x" at buf[start, end); 505 for another major version, 400 for anything else. */
export function httpVersion(buf: Buffer, start: number, end: number): number {
  if (end - start !== 8 || buf[start] !== H || buf[start + 1] !== T || buf[start + 2] !== T || buf[start + 3] !== P || buf[start + 4] !== SLASH || buf[start + 6] !== DOT) {
    refuse('a malformed HTTP version');
  }
  const major = buf[start + 5] - 0x30;
  const minor = buf[start + 7] - 0x30;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) refuse('a malformed HTTP version');
  if (buf[start + 5] !== ONE) throw new HttpRefusal(505, `HTTP/${major}.${minor} is not supported`);
  return minor === 0 ? 0 : 1;
}

/**
 * How a request's body is delimited, refusing every head that two parsers could read two ways
 * (the ground of request smuggling): Content-Length with Transfer-Encoding, Content-Length more
 * than once or not a plain number, a Transfer-Encoding whose last coding is not chunked (or that
 * names chunked twice), and any Transfer-Encoding in HTTP/1.0.
 */
export function requestFraming(fields: Fields, minor: number): Framing {
  const hasTe = fields.has('transfer-encoding');
  const lengths = fields.count('content-length');
  if (hasTe && lengths > 0) refuse('both Content-Length and Transfer-Encoding');
  if (hasTe) {
    if (minor === 0) refuse('Transfer-Encoding in an HTTP/1.0 request');
    return transferCoding(fields) ?? refuse('a Transfer-Encoding other than a final chunked');
  }
  if (lengths === 0) return NO_BODY;
  if (lengths > 1) refuse('more than one Content-Length');
  const length = contentLength(fields.get('content-length')!);
  if (length === undefined) refuse('a Content-Length that is not a number');
  return length === 0 ? NO_BODY : { kind: 'length', length };
}

/** Chunked when the codings end in exactly one `chunked`; undefined otherwise. */
export function transferCoding(fields: Fields): Framing | undefined {
  const codings = fields.list('transfer-encoding');
  const chunked = codings.indexOf('chunked');
  if (chunked === -1 || chunked !== codings.length - 1) return undefined;
  for (const c of codings) for (let i = 0; i < c.length; i++) if (TOKEN[c.charCodeAt(i)] !== 1) return undefined;
  return CHUNKED;
}

/** 1*DIGIT, at most 15 of them (below 2^53); undefined for anything else, a list "5, 5" included. */
export function contentLength(value: string): number | undefined {
  if (value.length === 0 || value.length > 15) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return Number(value);
}
