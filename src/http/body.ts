import type { BodyReader } from './body-reader-t';
import { ChunkedBody } from './chunked';
import type { HeadLimits } from '../config/head-limits';
import type { Framing } from './request-head';

/** A body of Content-Length bytes. */
export class LengthBody implements BodyReader {
  constructor(private remaining: number) {}

  get done(): boolean {
    return this.remaining === 0;
  }

  read(buf: Buffer, start: number): number {
    const end = Math.min(buf.length, start + this.remaining);
    this.remaining -= end - start;
    return end;
  }
}

/** A response delimited by the server closing the connection. */
export class UntilCloseBody implements BodyReader {
  readonly done = false;

  read(buf: Buffer): number {
    return buf.length;
  }
}

/** The reader for `framing`, undefined when there is no body. */
export function bodyReader(framing: Framing, limits: HeadLimits): BodyReader | undefined {
  switch (framing.kind) {
    case 'none':
      return undefined;
    case 'length':
      return new LengthBody(framing.length);
    case 'chunked':
      return new ChunkedBody(limits);
    case 'close':
      return new UntilCloseBody();
  }
}
