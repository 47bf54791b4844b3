/** What an HTTP/2 client sends first (RFC 9113 3.4); as an HTTP/1.1 request line it reads "PRI * HTTP/2.0". */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Whether a plain connection's first bytes are the HTTP/2 connection preface (h2c with prior
 * knowledge): 'yes', 'no', or 'more' while they are a proper prefix of it.
 */
export function h2Preface(input: Buffer): 'yes' | 'no' | 'more' {
  const n = Math.min(input.length, PREFACE.length);
  if (input.compare(PREFACE, 0, n, 0, n) !== 0) return 'no';
  return n === PREFACE.length ? 'yes' : 'more';
}
