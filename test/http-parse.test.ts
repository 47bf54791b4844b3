import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedBody, chunkHead, lastChunk } from '../src/http/chunked';
import { bodyReader, LengthBody } from '../src/http/body';
import { Fields } from '../src/http/fields';
import { DEFAULT_LIMITS, type HeadLimits } from '../src/config/head-limits';
import { HttpRefusal } from '../src/http/refusal';
import { RequestHeadReader, type RequestHead } from '../src/http/request-head';
import { ResponseHeadReader } from '../src/http/response-head';
import { serverRequestHead } from '../src/http/rewrite';
import { HTTP_DEFAULTS } from '../src/config/http-options';

/** Feeds `text` to a request reader in pieces of `step` bytes, as a connection would: the bytes so far, longer each time. */
function parseRequest(text: string | Buffer, step = Infinity, limits: HeadLimits = DEFAULT_LIMITS): { head: RequestHead; end: number } {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const reader = new RequestHeadReader(limits);
  for (let n = Math.min(step, bytes.length); ; n = Math.min(n + step, bytes.length)) {
    const end = reader.read(bytes.subarray(0, n));
    if (end !== -1) return { head: reader.head(), end };
    if (n === bytes.length) throw new Error('head incomplete');
  }
}

function refusal(fn: () => unknown): HttpRefusal {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpRefusal) return e;
    throw e;
  }
  throw new Error('not refused');
}

const GET = 'GET /a?b=c HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n';

test('reads a request head whole, in pieces, and byte by byte, alike', () => {
  for (const step of [Infinity, 7, 1]) {
    const { head, end } = parseRequest(GET + 'NEXT', step);
    assert.is(end, GET.length, `step ${step}`);
    assert.is(head.method, 'GET');
    assert.is(head.target, '/a?b=c');
    assert.is(head.minor, 1);
    assert.is(head.fields.length, 2);
    assert.equal([head.fields.raw(0), head.fields.raw(1)], ['Host', 'User-Agent']);
    assert.is(head.fields.get('user-agent'), 't');
    assert.is(head.framing.kind, 'none');
    assert.ok(head.keepAlive);
  }
});

test('reads bodies framings, connection tokens and trims field values', () => {
  const post = parseRequest('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nConnection: close, X-Foo\r\nX-Foo:  v \t\r\n\r\n').head;
  assert.equal(post.framing, { kind: 'length', length: 12 });
  assert.equal(post.connection, ['close', 'x-foo']);
  assert.not.ok(post.keepAlive);
  assert.is(post.fields.get('x-foo'), 'v');
  assert.equal(parseRequest('POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n').head.framing, { kind: 'chunked' });
  const old = parseRequest('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').head;
  assert.is(old.minor, 0);
  assert.ok(old.keepAlive);
  assert.not.ok(parseRequest('GET / HTTP/1.0\r\n\r\n').head.keepAlive);
  assert.is(parseRequest('\r\n\r\n' + GET).end, GET.length + 4, 'empty lines before the request line are skipped');
});

const SMUGGLING: [string, string, string][] = [
  ['CL with TE', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 'both Content-Length and Transfer-Encoding'],
  ['TE with CL', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 'both Content-Length and Transfer-Encoding'],
  ['repeated CL', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', 'more than one Content-Length'],
  ['CL list', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n', 'a Content-Length that is not a number'],
  ['signed CL', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n', 'a Content-Length that is not a number'],
  ['hex CL', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n', 'a Content-Length that is not a number'],
  ['empty CL', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n', 'a Content-Length that is not a number'],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n', 'obsolete line folding'],
  ['bare LF ending a field', 'GET / HTTP/1.1\r\nHost: h\nX: 1\r\n\r\n', 'a bare LF where CRLF is required'],
  ['bare LF ending the head', 'GET / HTTP/1.1\r\nHost: h\r\n\n', 'a bare LF where CRLF is required'],
  ['bare LF ending the request line', 'GET / HTTP/1.1\nHost: h\r\n\r\n', 'a bare LF where CRLF is required'],
  ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n', 'a bare CR in a field value'],
  ['bare CR in the request line', 'GET /\r HTTP/1.1\r\nHost: h\r\n\r\n', 'a malformed request target'],
  ['space before colon', 'GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 5\r\n\r\n', 'whitespace between a field name and its colon'],
  ['invalid name', 'GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n', 'an invalid byte in a field name'],
  ['empty name', 'GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n', 'an empty field name'],
  ['no colon', 'GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n', 'a field line without a colon'],
  ['NUL in a value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n', 'an invalid byte in a field value'],
  ['TE not final chunked', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'a Transfer-Encoding other than a final chunked'],
  ['TE chunked twice', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 'a Transfer-Encoding other than a final chunked'],
  ['TE identity', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n', 'a Transfer-Encoding other than a final chunked'],
  ['TE with junk', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: x y, chunked\r\n\r\n', 'a Transfer-Encoding other than a final chunked'],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'Transfer-Encoding in an HTTP/1.0 request'],
  ['no Host', 'GET / HTTP/1.1\r\nX: 1\r\n\r\n', 'an HTTP/1.1 request without Host'],
  ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'more than one Host field'],
  ['two spaces', 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n', 'a malformed request target'],
  ['lower-case version', 'GET / http/1.1\r\nHost: h\r\n\r\n', 'a malformed HTTP version'],
  ['no version', 'GET /\r\nHost: h\r\n\r\n', 'a malformed request target'],
  ['method with a slash', 'GE/T / HTTP/1.1\r\nHost: h\r\n\r\n', 'a malformed method in the request line'],
];

for (const [name, text, reason] of SMUGGLING) {
  test(`refuses with 400: ${name}`, () => {
    for (const step of [Infinity, 1]) {
      const r = refusal(() => parseRequest(text, step));
      assert.is(r.status, 400, `${name}, step ${step}`);
      assert.is(r.reason, reason);
    }
  });
}

test('refuses HTTP/2.0 in a request line with 505', () => {
  assert.is(refusal(() => parseRequest('GET / HTTP/2.0\r\n\r\n')).status, 505);
});

test('414 for a request line past the line limit, 431 for a field line or head past theirs, even before the line ends', () => {
  const limits = { maxLine: 64, maxHead: 256 };
  const longTarget = `GET /${'a'.repeat(80)} HTTP/1.1\r\nHost: h\r\n\r\n`;
  assert.is(refusal(() => parseRequest(longTarget, Infinity, limits)).status, 414);
  assert.is(refusal(() => parseRequest(longTarget.slice(0, 70), Infinity, limits)).status, 414, 'no need to wait for the LF');
  assert.is(refusal(() => parseRequest(`GET / HTTP/1.1\r\nHost: h\r\nX: ${'v'.repeat(80)}\r\n\r\n`, Infinity, limits)).status, 431);
  const many = `GET / HTTP/1.1\r\nHost: h\r\n${'X: 123456789\r\n'.repeat(20)}\r\n`;
  const r = refusal(() => parseRequest(many, 5, limits));
  assert.is(r.status, 431);
  assert.is(r.reason, 'request head too large');
  assert.is(parseRequest(`GET /${'a'.repeat(40)} HTTP/1.1\r\nHost: h\r\n\r\n`, 1, limits).head.target.length, 41);
});

function parseResponse(text: string, method = 'GET', step = Infinity) {
  const bytes = Buffer.from(text, 'latin1');
  const reader = new ResponseHeadReader(DEFAULT_LIMITS);
  for (let n = Math.min(step, bytes.length); ; n = Math.min(n + step, bytes.length)) {
    const end = reader.read(bytes.subarray(0, n));
    if (end !== -1) return { head: reader.head(method), end };
    if (n === bytes.length) throw new Error('head incomplete');
  }
}

test('reads response heads and their framing', () => {
  const ok = parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc', 'GET', 1);
  assert.is(ok.head.status, 200);
  assert.is(ok.head.reason, 'OK');
  assert.equal(ok.head.framing, { kind: 'length', length: 3 });
  assert.ok(ok.head.keepAlive);
  assert.is(ok.end, ok.end);
  assert.is(parseResponse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', 'HEAD').head.framing.kind, 'none');
  assert.is(parseResponse('HTTP/1.1 204 No Content\r\n\r\n').head.framing.kind, 'none');
  assert.is(parseResponse('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n').head.framing.kind, 'none');
  assert.is(parseResponse('HTTP/1.1 100 Continue\r\n\r\n').head.status, 100);
  assert.is(parseResponse('HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n').head.framing.kind, 'chunked');
  const close = parseResponse('HTTP/1.1 200 OK\r\n\r\n').head;
  assert.is(close.framing.kind, 'close');
  assert.not.ok(close.keepAlive, 'a body delimited by close leaves nothing to reuse');
  assert.not.ok(parseResponse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').head.keepAlive);
  assert.not.ok(parseResponse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').head.keepAlive);
});

test('refuses malformed responses (the proxy answers 502)', () => {
  for (const text of ['HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.1 20 OK\r\n\r\n', 'HTTP/1.1 200 OK\nX: 1\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n', 'ICY 200 OK\r\n\r\n']) {
    assert.instance(refusal(() => parseResponse(text)), HttpRefusal, JSON.stringify(text));
  }
});

const CHUNKED = '5\r\nhello\r\n1;name=value\r\n \r\nA \r\n0123456789\r\n0\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n';

test('frames a chunked body whole and byte by byte, keeping trailers; stops at its end', () => {
  for (const step of [Infinity, 1, 3]) {
    const bytes = Buffer.from(CHUNKED + 'NEXT');
    const body = new ChunkedBody(DEFAULT_LIMITS);
    let at = 0;
    let end = 0;
    while (!body.done) {
      const chunk = bytes.subarray(0, Math.min(bytes.length, at + step));
      end = body.read(chunk, at);
      at = chunk.length;
    }
    assert.is(end, CHUNKED.length, `step ${step}`);
    assert.is(body.trailers.length, 2);
    assert.equal([body.trailers.raw(0), body.trailers.raw(1)], ['X-Trailer', 'X-Other']);
    assert.is(body.trailers.get('x-other'), 't2');
  }
});

test('decodes a chunked body, and encodes one that decodes back', () => {
  const decoded: Buffer[] = [];
  const body = new ChunkedBody(DEFAULT_LIMITS, (b, s, e) => decoded.push(b.subarray(s, e)));
  body.read(Buffer.from(CHUNKED), 0);
  assert.is(Buffer.concat(decoded).toString(), 'hello 0123456789');
  const trailers = new Fields();
  trailers.add('X-Sum', '42');
  const encoded = chunkHead(5) + 'hello\r\n' + chunkHead(17) + 'a'.repeat(17) + '\r\n' + lastChunk(trailers);
  const again: Buffer[] = [];
  const back = new ChunkedBody(DEFAULT_LIMITS, (b, s, e) => again.push(b.subarray(s, e)));
  assert.is(back.read(Buffer.from(encoded), 0), encoded.length);
  assert.ok(back.done);
  assert.is(Buffer.concat(again).toString(), 'hello' + 'a'.repeat(17));
  assert.is(back.trailers.get('x-sum'), '42');
});

test('refuses malformed chunked bodies', () => {
  const cases: [string, string][] = [
    ['5\r\nhelloX\r\n', 'chunk data longer than its size'],
    ['5\nhello\r\n', 'a bare LF in a chunk size line'],
    ['5\r\rhello\r\n', 'a bare CR in a chunk size line'],
    ['\r\n', 'a chunk without a size'],
    ['g\r\n', 'a chunk without a size'],
    ['5x\r\n', 'an invalid chunk size'],
    ['fffffffffffffff\r\n', 'a chunk size too large'],
    ['5\r\nhello\r\r', 'a bare CR after chunk data'],
    ['0\r\nX: 1\n', 'a bare LF in the trailer section'],
    ['0\r\n X: 1\r\n\r\n', 'obsolete line folding'],
    ['1;a\0\r\n', 'an invalid byte in a chunk extension'],
  ];
  for (const [text, reason] of cases) {
    const r = refusal(() => new ChunkedBody(DEFAULT_LIMITS).read(Buffer.from(text), 0));
    assert.is(r.reason, reason, JSON.stringify(text));
  }
});

test('frames Content-Length bodies across reads, and picks the reader by framing', () => {
  const body = new LengthBody(10);
  assert.is(body.read(Buffer.from('abcd'), 1), 4);
  assert.not.ok(body.done);
  assert.is(body.read(Buffer.from('efghijklmn'), 0), 7);
  assert.ok(body.done);
  assert.is(bodyReader({ kind: 'none' }, DEFAULT_LIMITS), undefined);
  assert.instance(bodyReader({ kind: 'chunked' }, DEFAULT_LIMITS), ChunkedBody);
  assert.is(bodyReader({ kind: 'close' }, DEFAULT_LIMITS)!.read(Buffer.from('abc'), 1), 3);
});

test("the server's head: X-Forwarded-For the client alone, or after every value that came; Host the server's address for HTTP/1.0 without one", () => {
  const server = { host: '127.0.0.2', port: 8080 };
  const client = { address: '192.0.2.7', proto: 'http' as const };
  const bare = serverRequestHead(parseRequest('GET /a HTTP/1.0\r\n\r\n').head, HTTP_DEFAULTS, client, server);
  assert.is(bare, 'GET /a HTTP/1.1\r\nHost: 127.0.0.2:8080\r\nX-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\n\r\n');
  const chain = parseRequest('GET /b HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\n\r\n').head;
  assert.is(serverRequestHead(chain, HTTP_DEFAULTS, client, server), 'GET /b HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.7\r\nX-Forwarded-Proto: http\r\n\r\n');
});

test.run();
