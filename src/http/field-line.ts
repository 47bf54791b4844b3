import { FIELD_VALUE, HTAB, latin1, SP, TOKEN } from './chars';
import type { Fields } from './fields';
import { refuse } from './refusal';

const COLON = 0x3a;

/**
 * Parses the field line buf[start, end) (without its CRLF) into `fields`, refusing what RFC 9112
 * says a recipient must not accept: obsolete line folding, whitespace between the name and the
 * colon, a name that is not a token, and a value with control bytes (a bare CR among them).
 */
export function parseFieldLine(buf: Buffer, start: number, end: number, fields: Fields): void {
  const first = buf[start];
  if (first === SP || first === HTAB) refuse('obsolete line folding');
  let i = start;
  while (i < end && TOKEN[buf[i]] === 1) i++;
  if (i === end || buf[i] !== COLON) {
    const b = buf[i];
    refuse(b === SP || b === HTAB ? 'whitespace between a field name and its colon' : i === end ? 'a field line without a colon' : 'an invalid byte in a field name');
  }
  if (i === start) refuse('an empty field name');
  const nameEnd = i++;
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  let valueEnd = end;
  while (valueEnd > i && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
  for (let j = i; j < valueEnd; j++) {
    if (FIELD_VALUE[buf[j]] !== 1) refuse(buf[j] === 13 ? 'a bare CR in a field value' : 'an invalid byte in a field value');
  }
  fields.add(latin1(buf, start, nameEnd), latin1(buf, i, valueEnd));
}
