import { chunkHead, lastChunk } from './chunked';
import type { RequestHead } from './request-head';
import type { ResponseHead } from './response-head';
import { clientResponseHead, type ClientFraming } from './rewrite';
import type { Responder } from './client-side-t';

/** Writes to an HTTP/1.x client connection; false when its buffer is full. */
export type Send = (data: string | Buffer) => boolean;

/**
 * A response to an HTTP/1.x client: the status line and fields, and the body framed for that
 * client. A body delimited by the server's close is chunked for HTTP/1.1 clients (the connection
 * stays open) and sent as it is to HTTP/1.0 clients, which cannot take chunks; a chunked body is
 * decoded for them, and the connection closes after it.
 */
export class H1Response implements Responder {
  readonly decoded: boolean;
  readonly keepAlive: boolean;
  bytes = 0;
  private readonly framing: ClientFraming;

  constructor(
    private readonly send: Send,
    private readonly req: RequestHead,
    private readonly res: ResponseHead,
    closing: boolean,
    requestDone: boolean,
  ) {
    const kind = res.framing.kind;
    const http10 = req.minor === 0;
    this.framing = kind === 'close' ? (http10 ? 'close' : 'chunked') : kind === 'chunked' && http10 ? 'close' : 'as-is';
    this.decoded = kind === 'chunked' && http10;
    this.keepAlive = req.keepAlive && !closing && requestDone && this.framing !== 'close';
  }

  head(): void {
    this.write(clientResponseHead(this.res, this.framing, this.keepAlive, this.req.minor));
  }

  data(buf: Buffer): boolean {
    if (this.framing !== 'chunked') {
      this.bytes += buf.length;
      return this.send(buf);
    }
    this.write(chunkHead(buf.length));
    this.send(buf);
    this.bytes += buf.length + 2;
    return this.send('\r\n');
  }

  end(): void {
    if (this.framing === 'chunked') this.write(lastChunk());
  }

  private write(text: string): void {
    this.send(text);
    this.bytes += text.length;
  }
}
