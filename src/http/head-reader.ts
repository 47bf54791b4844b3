import { CR, LF } from './chars';
import { parseFieldLine } from './field-line';
import { Fields } from './fields';
import type { HeadLimits } from '../config/head-limits';
import { HttpRefusal, refuse } from './refusal';

/**
 * Reads one message head, line by line, as its bytes arrive: each line is checked once, when its
 * LF comes, so a head that trickles in byte by byte costs no more than one that comes whole. Every
 * line must end in CRLF; the head ends at the first empty line. The caller keeps the bytes from the
 * head's first byte on and passes them again, longer, after each read.
 */
export abstract class HeadReader {
  fields = new Fields();
  /** Where the first line not yet complete begins. */
  private lineStart = 0;
  private started = false;

  constructor(readonly limits: HeadLimits) {}

  /**
   * Reads on in `buf` (which begins where the head does): the offset just past the head once it is
   * complete, -1 while it is not. Throws an HttpRefusal for a head that breaks the rules.
   */
  read(buf: Buffer): number {
    const { maxLine, maxHead } = this.limits;
    let pos = this.lineStart;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      const end = lf === -1 ? buf.length : lf - 1;
      if (end - pos > maxLine) throw this.tooLong(!this.started);
      if ((lf === -1 ? buf.length : lf + 1) > maxHead) throw this.tooLarge();
      if (lf === -1) {
        this.lineStart = pos;
        return -1;
      }
      if (lf === pos || buf[end] !== CR) refuse('a bare LF where CRLF is required');
      if (!this.started) {
        // RFC 9112 2.2: empty lines before a request line are skipped (some clients send a CRLF after a body).
        if (end === pos && this.skipsEmptyLines) {
          pos = lf + 1;
          continue;
        }
        this.startLine(buf, pos, end);
        this.started = true;
      } else if (end === pos) {
        return lf + 1;
      } else {
        parseFieldLine(buf, pos, end, this.fields);
      }
      pos = lf + 1;
    }
  }

  /** Gets ready for the next message's head. */
  reset(): void {
    this.fields = new Fields();
    this.lineStart = 0;
    this.started = false;
  }

  protected abstract readonly skipsEmptyLines: boolean;
  /** Parses buf[start, end), the start line without its CRLF. */
  protected abstract startLine(buf: Buffer, start: number, end: number): void;
  protected abstract tooLong(startLine: boolean): HttpRefusal;
  protected abstract tooLarge(): HttpRefusal;
}
