// The type every body reader has, apart from the code: body.ts's readers and chunked.ts's
// ChunkedBody implement it, and body.ts picks among them, so neither file imports the other's type.

/** Follows a message body through the bytes of a connection, to find where the message ends. */
export interface BodyReader {
  /** Reads on from buf[start]: the offset just past the body's last byte in `buf` (buf.length if it goes on). */
  read(buf: Buffer, start: number): number;
  /** The whole body has been read. */
  readonly done: boolean;
}
