import { FIELD_VALUE, latin1, SP } from './chars';
import type { Fields } from './fields';
import { HeadReader } from './head-reader';
import { HttpRefusal, refuse } from './refusal';
import { contentLength, httpVersion, NO_BODY, transferCoding, type Framing } from './request-head';

/** A parsed, checked response head. */
export interface ResponseHead {
  status: number;
  reason: string;
  minor: number;
  fields: Fields;
  framing: Framing;
  connection: string[];
  /** The server may take another request on this connection. */
  keepAlive: boolean;
}

const UNTIL_CLOSE: Framing = { kind: 'close' };

/**
 * A response-head reader for what servers send, as strict as for requests. Whatever it refuses,
 * the proxy answers the client with a 502 and drops the server connection.
 */
export class ResponseHeadReader extends HeadReader {
  protected readonly skipsEmptyLines = false;
  private status = 0;
  private reason = '';
  private minor = 1;

  /** The head read last; `method` is the request's (a response to HEAD has no body). */
  head(method: string): ResponseHead {
    const { fields, minor, status } = this;
    const connection = fields.list('connection');
    const keepAlive = minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
    const framing = status < 200 || status === 204 || status === 304 || method === 'HEAD' ? NO_BODY : responseFraming(fields);
    return { status, reason: this.reason, minor, fields, framing, connection, keepAlive: keepAlive && framing.kind !== 'close' };
  }

  protected startLine(buf: Buffer, start: number, end: number): void {
    this.minor = httpVersion(buf, start, start + 8);
    const code = start + 9;
    if (buf[start + 8] !== SP || end < code + 3) refuse('a malformed status line');
    let status = 0;
    for (let i = code; i < code + 3; i++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) refuse('a malformed status code');
      status = status * 10 + d;
    }
    if (status < 100) refuse('a malformed status code');
    // The reason phrase is optional, and so (in practice) is the space before an empty one.
    if (end > code + 3 && buf[code + 3] !== SP) refuse('a malformed status line');
    for (let i = code + 4; i < end; i++) if (FIELD_VALUE[buf[i]] !== 1) refuse('an invalid byte in the reason phrase');
    this.status = status;
    this.reason = end > code + 4 ? latin1(buf, code + 4, end) : '';
  }

  protected tooLong(): HttpRefusal {
    return new HttpRefusal(502, 'the server sent a line too long');
  }

  protected tooLarge(): HttpRefusal {
    return new HttpRefusal(502, 'the server sent a head too large');
  }
}

/** Strict as for requests: a response two parsers could frame two ways is refused (502). */
function responseFraming(fields: Fields): Framing {
  const hasTe = fields.has('transfer-encoding');
  const lengths = fields.count('content-length');
  if (hasTe && lengths > 0) refuse('both Content-Length and Transfer-Encoding');
  if (hasTe) return transferCoding(fields) ?? UNTIL_CLOSE;
  if (lengths === 0) return UNTIL_CLOSE;
  if (lengths > 1) refuse('more than one Content-Length');
  const length = contentLength(fields.get('content-length')!);
  if (length === undefined) refuse('a Content-Length that is not a number');
  return length === 0 ? NO_BODY : { kind: 'length', length };
}
