// Byte classes of RFC 9110 and RFC 9112 as lookup tables: a parser checks a byte with one array
// read instead of a comparison chain or a regular expression.

const CR = 13;
const LF = 10;
export const SP = 32;
export const HTAB = 9;
export { CR, LF };

function table(accept: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b) ? 1 : 0;
  return t;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** tchar: what a token (method, field name, transfer coding) is made of. */
export const TOKEN = table((b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || TCHAR_SYMBOLS.includes(String.fromCharCode(b)));

/** field-vchar, SP and HTAB: what a field value may hold (obs-text included, control bytes not). */
export const FIELD_VALUE = table((b) => (b >= 0x21 && b <= 0x7e) || b >= 0x80 || b === SP || b === HTAB);

/** A request-target or the version: visible ASCII, no space, no obs-text. */
export const VISIBLE = table((b) => b >= 0x21 && b <= 0x7e);

/** Hex digits of a chunk size, with their values; -1 elsewhere. */
export const HEX = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d;
  for (let d = 0; d < 6; d++) t[0x41 + d] = t[0x61 + d] = 10 + d;
  return t;
})();

/**
 * buf[start, end) as a latin1 string, by Buffer's own `latin1Slice`: `toString` costs as much again
 * in its encoding dispatch, and a request's head takes about ten of these (issue 14's profile).
 */
export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(start, end);
}
