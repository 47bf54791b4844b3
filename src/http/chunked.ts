import type { BodyReader } from './body-reader-t';
import { CR, FIELD_VALUE, HEX, HTAB, LF, SP } from './chars';
import { parseFieldLine } from './field-line';
import { Fields } from './fields';
import type { HeadLimits } from '../config/head-limits';
import { refuse } from './refusal';

const enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  TrailerLf,
  Done,
}

/** 13 hex digits stay below 2^53: a longer size cannot be counted exactly. */
const MAX_SIZE_DIGITS = 13;
const SEMICOLON = 0x3b;

/**
 * Follows a chunked body (RFC 9112 7.1) byte by byte outside chunk data, which it skips whole. It
 * frames by default: the bytes go on as they came, trailers included. Given `data`, it decodes
 * too, handing over each run of chunk data, and keeps the trailer fields in `trailers`.
 */
export class ChunkedBody implements BodyReader {
  readonly trailers = new Fields();
  private state = State.Size;
  private size = 0;
  private digits = 0;
  /** The trailer line being read, and how long the trailer section is so far. */
  private line: number[] = [];
  private trailerBytes = 0;

  constructor(
    private readonly limits: HeadLimits,
    private readonly data?: (buf: Buffer, start: number, end: number) => void,
  ) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  read(buf: Buffer, start: number): number {
    let i = start;
    while (i < buf.length && this.state !== State.Done) {
      if (this.state === State.Data) {
        const end = Math.min(buf.length, i + this.size);
        this.data?.(buf, i, end);
        this.size -= end - i;
        i = end;
        if (this.size === 0) this.state = State.DataCr;
        continue;
      }
      this.step(buf[i++]);
    }
    return i;
  }

  private step(b: number): void {
    switch (this.state) {
      case State.Size:
        return this.sizeByte(b);
      case State.Extension:
        if (b === CR) this.state = State.SizeLf;
        else if (FIELD_VALUE[b] !== 1) refuse(b === LF ? 'a bare LF in a chunk size line' : 'an invalid byte in a chunk extension');
        return;
      case State.SizeLf:
        if (b !== LF) refuse('a bare CR in a chunk size line');
        this.state = this.size > 0 ? State.Data : State.Trailer;
        return;
      case State.DataCr:
        if (b !== CR) refuse('chunk data longer than its size');
        this.state = State.DataLf;
        return;
      case State.DataLf:
        if (b !== LF) refuse('a bare CR after chunk data');
        this.digits = 0;
        this.state = State.Size;
        return;
      case State.Trailer:
        return this.trailerByte(b);
      case State.TrailerLf:
        if (b !== LF) refuse('a bare CR in the trailer section');
        return this.trailerLine();
    }
  }

  private sizeByte(b: number): void {
    const digit = HEX[b];
    if (digit !== -1) {
      if (++this.digits > MAX_SIZE_DIGITS) refuse('a chunk size too large');
      this.size = this.size * 16 + digit;
      return;
    }
    if (this.digits === 0) refuse('a chunk without a size');
    if (b === CR) this.state = State.SizeLf;
    else if (b === SEMICOLON || b === SP || b === HTAB) this.state = State.Extension;
    else refuse(b === LF ? 'a bare LF in a chunk size line' : 'an invalid chunk size');
  }

  private trailerByte(b: number): void {
    if (++this.trailerBytes > this.limits.maxHead) refuse('a trailer section too large');
    if (b === CR) this.state = State.TrailerLf;
    else if (b === LF) refuse('a bare LF in the trailer section');
    else this.line.push(b);
  }

  /** A trailer line ended: an empty one ends the body, another is checked as a field line. */
  private trailerLine(): void {
    if (this.line.length === 0) {
      this.state = State.Done;
      return;
    }
    parseFieldLine(Buffer.from(this.line), 0, this.line.length, this.trailers);
    this.line = [];
    this.state = State.Trailer;
  }
}

/** The line that opens a chunk of `length` bytes (length > 0), when the proxy frames a body itself. */
export function chunkHead(length: number): string {
  return `${length.toString(16)}\r\n`;
}

/** What ends a chunked body the proxy frames: the last chunk, the trailer fields, the empty line. */
export function lastChunk(trailers?: Fields): string {
  return `0\r\n${trailers === undefined ? '' : trailers.serialize(() => true)}\r\n`;
}
