import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeProxyHeader } from '../../src/conn/proxy/encode';
import { parseProxyHeader, V1_MAX } from '../../src/conn/proxy/parse';

const SIG = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

function v2(verCmd: number, family: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = verCmd;
  head[1] = family;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

test('v1 TCP4 and TCP6 give both ends and the header length; the bytes after are not part of it', () => {
  const line = 'PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n';
  const parsed = parseProxyHeader(Buffer.from(line + 'GET /'));
  assert.equal(parsed, { ends: { source: { address: '203.0.113.7', port: 56324 }, destination: { address: '192.0.2.1', port: 443 } }, length: line.length });
  const six = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 1 2\r\n'));
  assert.equal(six, { ends: { source: { address: '2001:db8::7', port: 1 }, destination: { address: '2001:db8::1', port: 2 } }, length: 40 });
  assert.equal(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { ends: {}, length: 15 });
});

test('a header still arriving asks for more; every prefix of a valid header does', () => {
  const whole = Buffer.concat([v2(0x21, 0x11, Buffer.from([203, 0, 113, 7, 127, 0, 0, 1, 0x1f, 0x90, 0, 80]))]);
  for (let n = 1; n < whole.length; n++) assert.equal(parseProxyHeader(whole.subarray(0, n)), { more: true }, `v2 prefix ${n}`);
  const line = Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n');
  for (let n = 1; n < line.length; n++) assert.equal(parseProxyHeader(line.subarray(0, n)), { more: true }, `v1 prefix ${n}`);
});

test('v1 refusals: longer than 107 bytes, a bad address, port or protocol, not a header at all', () => {
  const long = Buffer.from(`PROXY TCP4 ${'1'.repeat(V1_MAX)}`);
  assert.match((parseProxyHeader(long) as { error: string }).error, 'longer than 107 bytes');
  const longLine = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(100)}\r\n`);
  assert.match((parseProxyHeader(longLine) as { error: string }).error, 'longer than 107 bytes');
  assert.match((parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n')) as { error: string }).error, 'bad TCP4 address or port');
  assert.match((parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n')) as { error: string }).error, 'bad TCP4 address or port');
  assert.match((parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n')) as { error: string }).error, 'bad TCP4 address or port');
  assert.match((parseProxyHeader(Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n')) as { error: string }).error, 'unknown protocol');
  assert.match((parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4\r\n')) as { error: string }).error, 'expected "PROXY TCP4|TCP6');
  assert.match((parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n')) as { error: string }).error, 'no PROXY header: the connection began with "GET');
});

test('v2 PROXY over IPv4 and IPv6 with TLVs kept (ALPN, authority, unique id), others skipped', () => {
  const tlvs = Buffer.concat([tlv(0x01, Buffer.from('h2')), tlv(0x04, Buffer.alloc(3)), tlv(0x02, Buffer.from('example.com')), tlv(0x05, Buffer.from([0xab, 0xcd]))]);
  const four = v2(0x21, 0x11, Buffer.concat([Buffer.from([203, 0, 113, 7, 127, 0, 0, 1, 0x1f, 0x90, 0, 80]), tlvs]));
  assert.equal(parseProxyHeader(Buffer.concat([four, Buffer.from('rest')])), {
    ends: { source: { address: '203.0.113.7', port: 8080 }, destination: { address: '127.0.0.1', port: 80 }, alpn: 'h2', authority: 'example.com', uniqueId: 'abcd' },
    length: four.length,
  });
  const addrs = Buffer.alloc(36);
  addrs.writeUInt16BE(0x2001, 0);
  addrs.writeUInt16BE(0xdb8, 2);
  addrs[15] = 7;
  addrs[31] = 1;
  addrs.writeUInt16BE(443, 32);
  addrs.writeUInt16BE(8443, 34);
  assert.equal(parseProxyHeader(v2(0x21, 0x21, addrs)), { ends: { source: { address: '2001:db8::7', port: 443 }, destination: { address: '::1', port: 8443 } }, length: 52 });
});

test('v2 LOCAL is accepted without an address; UNSPEC and Unix families carry none', () => {
  assert.equal(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))), { ends: {}, length: 16 });
  assert.equal(parseProxyHeader(v2(0x20, 0x11, Buffer.alloc(12, 1))), { ends: {}, length: 28 });
  assert.equal(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0))), { ends: {}, length: 16 });
  assert.equal(parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(216))), { ends: {}, length: 232 });
});

test('v2 refusals: bad signature, version, command, unknown family, short address block, truncated TLV', () => {
  const bad = Buffer.from(SIG);
  bad[11] = 0x0b;
  assert.match((parseProxyHeader(bad) as { error: string }).error, 'no PROXY header');
  assert.match((parseProxyHeader(v2(0x11, 0x11, Buffer.alloc(12))) as { error: string }).error, 'version 1, expected 2');
  assert.match((parseProxyHeader(v2(0x22, 0x11, Buffer.alloc(12))) as { error: string }).error, 'unknown command 0x2');
  assert.match((parseProxyHeader(v2(0x21, 0x41, Buffer.alloc(12))) as { error: string }).error, 'unknown address family 0x41');
  assert.match((parseProxyHeader(v2(0x21, 0x13, Buffer.alloc(12))) as { error: string }).error, 'unknown address family 0x13');
  assert.match((parseProxyHeader(v2(0x21, 0x21, Buffer.alloc(12))) as { error: string }).error, '12 bytes of addresses, family 0x21 needs 36');
  assert.match((parseProxyHeader(v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([0x01, 0x00])]))) as { error: string }).error, 'truncated TLV');
  assert.match((parseProxyHeader(v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([0x01, 0x00, 0x09, 0x68])]))) as { error: string }).error, 'runs past the header');
});

test('what ferry sends parses back to the same ends, v1 and v2, IPv4, IPv6 and mapped IPv4', () => {
  const cases = [
    { source: { address: '203.0.113.7', port: 40000 }, destination: { address: '127.0.0.1', port: 8080 } },
    { source: { address: '2001:db8::7', port: 1 }, destination: { address: '::1', port: 65535 } },
  ];
  for (const version of ['v1', 'v2'] as const) {
    for (const ends of cases) assert.equal(parseProxyHeader(encodeProxyHeader(version, ends)), { ends, length: encodeProxyHeader(version, ends).length }, version);
    const mapped = { source: { address: '::ffff:10.0.0.1', port: 5 }, destination: { address: '::ffff:127.0.0.1', port: 6 } };
    const back = parseProxyHeader(encodeProxyHeader(version, mapped)) as { ends: object };
    assert.equal(back.ends, { source: { address: '10.0.0.1', port: 5 }, destination: { address: '127.0.0.1', port: 6 } }, `${version} mapped`);
  }
  assert.equal(encodeProxyHeader('v1', undefined).toString(), 'PROXY UNKNOWN\r\n');
  assert.equal(parseProxyHeader(encodeProxyHeader('v2', undefined)), { ends: {}, length: 16 });
  assert.equal(encodeProxyHeader('v2', undefined)[12], 0x20, 'v2 without ends is LOCAL');
});

test.run();
