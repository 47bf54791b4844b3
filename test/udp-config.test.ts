import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateConfig } from '../src/config/validate';

function udpConfig(frontend: Record<string, unknown>): Record<string, any> {
  return {
    frontends: { dns: { mode: 'udp', bind: ['udp@127.0.0.1:5353'], backend: 'app', ...frontend } },
    backends: { app: { servers: { s1: { address: '127.0.0.1:53' } } } },
  };
}

function problemsOf(raw: unknown): string[] {
  const { config, problems } = validateConfig(raw);
  assert.is(config, undefined);
  return problems;
}

test('a udp frontend: mode, binds, timeout.flow and maxFlows with their defaults', () => {
  const { config, problems } = validateConfig(udpConfig({}));
  assert.equal(problems, []);
  const dns = config!.frontends.dns;
  assert.is(dns.mode, 'udp');
  assert.equal(dns.bind[0], { text: 'udp@127.0.0.1:5353', key: 'udp:127.0.0.1:5353', address: { kind: 'udp', host: '127.0.0.1', port: 5353, family: 4 } });
  assert.is(dns.timeout.flow, 30_000);
  assert.is(dns.maxFlows, 10_000);
  const tuned = validateConfig(udpConfig({ timeout: { flow: '2s' }, maxFlows: 5 })).config!.frontends.dns;
  assert.is(tuned.timeout.flow, 2000);
  assert.is(tuned.maxFlows, 5);
});

test('a udp frontend takes only udp binds', () => {
  assert.equal(problemsOf(udpConfig({ bind: ['udp@127.0.0.1:5353', '127.0.0.1:8080'] })), [
    'frontends.dns.bind[1]: "127.0.0.1:8080" is not a UDP address, and the frontend has "mode": "udp"; write "udp@host:port"',
  ]);
});

test('a tcp frontend takes no udp binds', () => {
  assert.equal(problemsOf(udpConfig({ mode: 'tcp' })), [
    'frontends.dns.bind[0]: "udp@127.0.0.1:5353" is a UDP address; a frontend with UDP binds needs "mode": "udp" (and only UDP binds)',
  ]);
  assert.equal(problemsOf(udpConfig({ mode: undefined, bind: 'udp@127.0.0.1:5353' })), [
    'frontends.dns.bind: "udp@127.0.0.1:5353" is a UDP address; a frontend with UDP binds needs "mode": "udp" (and only UDP binds)',
  ]);
});

test('udp settings out of range and unknown modes', () => {
  assert.equal(problemsOf(udpConfig({ maxFlows: 0, timeout: { flow: 'soon' } })), [
    'frontends.dns.timeout.flow: expected a duration such as "250ms", "30s" or "5m", found "soon"',
    'frontends.dns.maxFlows: expected an integer from 1 to 1000000, found 0',
  ]);
  assert.equal(problemsOf(udpConfig({ mode: 'quic' })), ['frontends.dns.mode: expected one of "tcp", "udp", "http", found "quic"']);
});

test('flowKey, quicDcidLength and maxFlowRate: defaults and values', () => {
  const dns = validateConfig(udpConfig({})).config!.frontends.dns;
  assert.equal([dns.flowKey, dns.quicDcidLength, dns.maxFlowRate], ['address', 8, undefined]);
  const quic = validateConfig(udpConfig({ flowKey: 'quic-dcid', quicDcidLength: 0, maxFlowRate: 500 })).config!.frontends.dns;
  assert.equal([quic.flowKey, quic.quicDcidLength, quic.maxFlowRate], ['quic-dcid', 0, 500]);
  assert.is(validateConfig(udpConfig({ flowKey: 'quic-dcid', quicDcidLength: 20 })).config!.frontends.dns.quicDcidLength, 20);
  assert.is(validateConfig(udpConfig({ flowKey: 'none' })).config!.frontends.dns.flowKey, 'none');
});

test('bad flowKey, quicDcidLength and maxFlowRate values are refused, naming the key', () => {
  assert.equal(problemsOf(udpConfig({ flowKey: 'dcid' })), ['frontends.dns.flowKey: expected one of "address", "quic-dcid", "none", found "dcid"']);
  assert.equal(problemsOf(udpConfig({ flowKey: 'quic-dcid', quicDcidLength: 21 })), ['frontends.dns.quicDcidLength: expected an integer from 0 to 20, found 21']);
  assert.equal(problemsOf(udpConfig({ flowKey: 'quic-dcid', quicDcidLength: -1 })), ['frontends.dns.quicDcidLength: expected an integer from 0 to 20, found -1']);
  assert.equal(problemsOf(udpConfig({ maxFlowRate: 0 })), ['frontends.dns.maxFlowRate: expected an integer from 1 to 1000000, found 0']);
  assert.equal(problemsOf(udpConfig({ maxFlowRate: 2.5 })), ['frontends.dns.maxFlowRate: expected an integer from 1 to 1000000, found 2.5']);
  assert.equal(problemsOf(udpConfig({ maxFlowRate: '500/s' })), ['frontends.dns.maxFlowRate: expected an integer from 1 to 1000000, found "500/s"']);
});

test('quicDcidLength needs flowKey quic-dcid; the UDP options need a UDP frontend', () => {
  assert.equal(problemsOf(udpConfig({ quicDcidLength: 8 })), [
    'frontends.dns.quicDcidLength: applies to "flowKey": "quic-dcid" only (the frontend\'s flowKey is "address"); remove it or set "flowKey": "quic-dcid"',
  ]);
  assert.equal(problemsOf(udpConfig({ flowKey: 'none', quicDcidLength: 8 })), [
    'frontends.dns.quicDcidLength: applies to "flowKey": "quic-dcid" only (the frontend\'s flowKey is "none"); remove it or set "flowKey": "quic-dcid"',
  ]);
  const tcp = { frontends: { web: { bind: '127.0.0.1:8080', backend: 'app', flowKey: 'address', maxFlowRate: 5 } }, backends: udpConfig({}).backends };
  assert.equal(problemsOf(tcp), [
    'frontends.web.flowKey: is a UDP option; it needs "mode": "udp"',
    'frontends.web.maxFlowRate: is a UDP option; it needs "mode": "udp"',
  ]);
});

test('two frontends cannot bind the same udp address', () => {
  const raw = udpConfig({});
  raw.frontends.dns2 = { mode: 'udp', bind: 'udp@127.0.0.1:5353', backend: 'app' };
  assert.equal(problemsOf(raw), ['frontends.dns2.bind: "udp@127.0.0.1:5353" is already bound by frontends.dns.bind[0]']);
});

test('a udp frontend needs a backend with servers, not a built-in service', () => {
  const raw = udpConfig({});
  raw.backends.app = { service: 'echo' };
  assert.equal(problemsOf(raw), [
    'frontends.dns.backend: backend "app" runs the built-in service "echo", which speaks TCP; a UDP frontend needs a backend with "servers"',
  ]);
});

test.run();
