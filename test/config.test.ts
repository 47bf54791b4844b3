import { defaultMasterSocket } from '../src/control/path';
import { closest, editDistance } from '../src/lib/closest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bindKey, parseBindAddress, parseServerAddress } from '../src/config/address';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { parseDuration } from '../src/config/duration';
import { parseConfigText } from '../src/config/file';
import { mergeLayers } from '../src/config/layers';
import { ConfigError, loadConfig, loadConfigOrProblems } from '../src/config/load';
import type { BindAddress, Config } from '../src/config/types';
import { validateConfig } from '../src/config/validate';

// ---------------------------------------------------------------------------------------------
// helpers

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-config-test-'));
let fileCount = 0;

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeConfig(content: unknown): string {
  const file = path.join(tmp, `config-${++fileCount}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** The smallest valid configuration, extended per test. */
function minimal(extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    frontends: { web: { bind: ['127.0.0.1:8080'], backend: 'app' } },
    backends: { app: { servers: { s1: { address: '127.0.0.1:9000' } } } },
    ...extra,
  };
}

function valid(raw: unknown): Config {
  const { config, problems } = validateConfig(raw);
  assert.equal(problems, []);
  assert.ok(config);
  return config!;
}

function problemsOf(raw: unknown): string[] {
  const { config, problems } = validateConfig(raw);
  assert.is(config, undefined);
  return problems;
}

function bindOk(text: string): BindAddress {
  const parsed = parseBindAddress(text, '/srv/ferry');
  if (!parsed.ok) throw new Error(`expected ${text} to parse, got: ${parsed.error}`);
  return parsed.value;
}

function bindError(text: string): string {
  const parsed = parseBindAddress(text, '/srv/ferry');
  if (parsed.ok) throw new Error(`expected ${text} to be rejected`);
  return parsed.error;
}

function frontendWithBind(bind: unknown): Record<string, any> {
  const raw = minimal();
  raw.frontends.web.bind = bind;
  return raw;
}

// ---------------------------------------------------------------------------------------------
// durations

test('parseDuration: numbers are milliseconds, strings take a unit', () => {
  assert.is(parseDuration(0), 0);
  assert.is(parseDuration(250), 250);
  assert.is(parseDuration('42'), 42);
  assert.is(parseDuration('250ms'), 250);
  assert.is(parseDuration('30s'), 30_000);
  assert.is(parseDuration('5m'), 300_000);
  assert.is(parseDuration('1h'), 3_600_000);
  assert.is(parseDuration('1d'), 86_400_000);
  assert.is(parseDuration('0s'), 0);
});

test('parseDuration: rejects anything else', () => {
  for (const bad of [-1, 1.5, NaN, Infinity, '30x', '', ' 30s', '30 s', '1.5s', 's', '-5s', '30S', '99999999999999999999d', null, true, {}, []]) {
    assert.is(parseDuration(bad), undefined, `expected ${JSON.stringify(bad)} to be rejected`);
  }
});

// ---------------------------------------------------------------------------------------------
// bind addresses

test('bind: IPv4 literal, localhost and * wildcard', () => {
  assert.equal(bindOk('127.0.0.1:8080'), { kind: 'tcp', host: '127.0.0.1', port: 8080, family: 4, v6only: false });
  assert.equal(bindOk('localhost:80'), { kind: 'tcp', host: '127.0.0.1', port: 80, family: 4, v6only: false });
  assert.equal(bindOk('*:443'), { kind: 'tcp', host: '0.0.0.0', port: 443, family: 4, v6only: false });
  assert.is(bindKey(bindOk('*:443')), bindKey(bindOk('0.0.0.0:443')));
  assert.is(bindKey(bindOk('127.0.0.1:8080')), 'tcp:127.0.0.1:8080');
});

test('bind: IPv6 in brackets and the ::: wildcard, canonicalised', () => {
  assert.equal(bindOk('[::1]:8080'), { kind: 'tcp', host: '::1', port: 8080, family: 6, v6only: false });
  assert.is(bindKey(bindOk('[::1]:8080')), 'tcp:[::1]:8080');
  assert.is(bindKey(bindOk('[0:0:0:0:0:0:0:1]:8080')), 'tcp:[::1]:8080');
  assert.equal(bindOk(':::8080'), { kind: 'tcp', host: '::', port: 8080, family: 6, v6only: false });
  assert.is(bindKey(bindOk(':::8080')), bindKey(bindOk('[::]:8080')));
});

test('bind: port 0 (ephemeral) and 65535 are allowed', () => {
  assert.is((bindOk('127.0.0.1:0') as { port: number }).port, 0);
  assert.is((bindOk('127.0.0.1:65535') as { port: number }).port, 65535);
});

test('bind: unix@ absolute and relative paths, abns@ names', () => {
  assert.equal(bindOk('unix@/run/ferry.sock'), { kind: 'unix', path: '/run/ferry.sock' });
  assert.equal(bindOk('unix@sock/ferry.sock'), { kind: 'unix', path: '/srv/ferry/sock/ferry.sock' });
  assert.is(bindKey(bindOk('unix@/run/ferry.sock')), 'unix:/run/ferry.sock');
  assert.equal(bindOk('abns@ferry'), { kind: 'abns', name: 'ferry' });
  assert.is(bindKey(bindOk('abns@ferry')), 'abns:ferry');
});

test('bind: errors name the cause', () => {
  assert.is(bindError('1.2.3.4:99999'), 'port must be 0-65535');
  assert.is(bindError('1.2.3.4:http'), 'port must be 0-65535');
  assert.is(bindError('1.2.3.4:'), 'port must be 0-65535');
  assert.match(bindError('127.0.0.1'), 'missing ":port"');
  assert.match(bindError('example.com:80'), '"example.com" is not an IP address');
  assert.match(bindError('::1:80'), 'IPv6 addresses need brackets');
  assert.match(bindError('[127.0.0.1]:80'), 'IPv4 addresses are written without brackets');
  assert.match(bindError('[::1]80'), 'missing ":port" after "]"');
  assert.match(bindError('[::1:80'), 'missing "]"');
  assert.match(bindError(':80'), 'missing host');
  assert.match(bindError('unix@'), 'needs a socket path');
  assert.match(bindError(`unix@/${'x'.repeat(120)}`), 'bytes long');
  assert.match(bindError('abns@'), 'needs a socket name');
  assert.match(bindError('tcp@127.0.0.1:80'), 'unknown address type "tcp@"');
});

test('bind: udp@ takes one IPv4 or IPv6 address; wildcards and udp4@/udp6@ are refused', () => {
  assert.equal(bindOk('udp@127.0.0.1:53'), { kind: 'udp', host: '127.0.0.1', port: 53, family: 4 });
  assert.equal(bindOk('udp@[0:0::1]:53'), { kind: 'udp', host: '::1', port: 53, family: 6 });
  assert.is(bindKey(bindOk('udp@[::1]:53')), 'udp:[::1]:53');
  assert.is.not(bindKey(bindOk('udp@127.0.0.1:53')), bindKey(bindOk('127.0.0.1:53')));
  const wildcard = 'a UDP bind cannot take every address (replies would not come from the address the client sent to); bind each address instead, e.g. "udp@127.0.0.1:53"';
  assert.is(bindError('udp@0.0.0.0:53'), wildcard);
  assert.is(bindError('udp@*:53'), wildcard);
  assert.is(bindError('udp@:::53'), wildcard);
  assert.is(bindError('udp@[::]:53'), wildcard);
  assert.is(bindError('udp@127.0.0.1'), 'missing ":port" (e.g. "127.0.0.1:8080")');
  assert.is(bindError('udp6@[::1]:53'), 'write "udp@[::1]:53": the address says the family');
});

test('bind: fd@ names a socket passed by the service manager, or its fd number', () => {
  assert.equal(bindOk('fd@web'), { kind: 'fd', name: 'web' });
  assert.equal(bindOk('fd@ferry.socket'), { kind: 'fd', name: 'ferry.socket' });
  assert.is(bindKey(bindOk('fd@web')), 'fd:web');
  assert.equal(bindOk('fd@3'), { kind: 'fd', name: '3' });
  assert.is(bindKey(bindOk('fd@003')), bindKey(bindOk('fd@3')), 'one fd, however it is spelled');
});

test('bind: fd@ errors name the cause', () => {
  assert.match(bindError('fd@'), 'fd@ needs the name of a socket passed by the service manager, e.g. "fd@web"');
  assert.is(bindError('fd@2'), 'fd 2 is not a socket passed by the service manager: those start at fd 3');
  assert.is(bindError('fd@99999999999'), '99999999999 is not an fd number');
  assert.is(bindError('fd@web:admin'), 'a socket name cannot contain ":"');
  assert.is(bindError('fd@we\tb'), 'the socket name contains a control character');
  assert.is(bindError(`fd@${'x'.repeat(256)}`), 'the socket name is 256 characters long; systemd allows at most 255');
  assert.ok(parseBindAddress(`fd@${'x'.repeat(255)}`).ok);
  assert.match(bindError('tcp@127.0.0.1:80'), '(expected unix@, abns@, udp@ or fd@)');
});

// ---------------------------------------------------------------------------------------------
// server addresses

test('server address: IPs and host names', () => {
  assert.equal(parseServerAddress('127.0.0.1:9000'), { ok: true, value: { host: '127.0.0.1', port: 9000 } });
  assert.equal(parseServerAddress('db.internal:5432'), { ok: true, value: { host: 'db.internal', port: 5432 } });
  assert.equal(parseServerAddress('[::1]:9000'), { ok: true, value: { host: '::1', port: 9000 } });
});

test('server address: errors', () => {
  const error = (text: string) => {
    const parsed = parseServerAddress(text);
    return parsed.ok ? 'parsed' : parsed.error;
  };
  assert.is(error('127.0.0.1:0'), 'port must be 1-65535');
  assert.is(error('127.0.0.1:65536'), 'port must be 1-65535');
  assert.match(error('127.0.0.1'), 'missing ":port"');
  assert.match(error('::1:9000'), 'IPv6 addresses need brackets');
  assert.match(error('10.1:80'), 'not a valid IPv4 address');
  assert.match(error('bad host!:80'), 'neither an IP address nor a host name');
  assert.match(error(':80'), 'missing host');
});

// ---------------------------------------------------------------------------------------------
// validation: defaults and normal forms

test('validate: every default is applied', () => {
  const config = valid(minimal());
  assert.equal(config.global, { groups: 1, threads: 1, shards: 1, maxconn: 20000, hardStopAfter: 30_000, maxReloads: 50, masterSocket: defaultMasterSocket(), masterSocketAccess: { mode: 0o600 }, log: { level: 'info', format: 'json', access: true } });
  const web = config.frontends.web;
  assert.is(web.name, 'web');
  assert.is(web.mode, 'tcp');
  assert.is(web.maxconn, 20000);
  assert.is(web.backlog, 1024);
  assert.equal(web.timeout, { client: 30_000, clientFin: 1_000, flow: 30_000, handshake: 10_000, proxyHeader: 30_000 });
  const app = config.backends.app;
  assert.equal(
    { balance: app.balance, retries: app.retries, redispatch: app.redispatch, timeout: app.timeout },
    { balance: { algorithm: 'roundrobin' }, retries: 3, redispatch: true, timeout: { connect: 5_000, server: 30_000, serverFin: 30_000, queue: 5_000 } },
  );
  assert.not.ok('tunnel' in app.timeout);
  assert.not.ok('service' in app);
  assert.equal(app.servers, [{ name: 's1', host: '127.0.0.1', port: 9000, weight: 1 }]);
});

test('validate: a frontend without maxconn inherits global.maxconn', () => {
  const config = valid(minimal({ global: { maxconn: 500 } }));
  assert.is(config.frontends.web.maxconn, 500);
  const raw = minimal({ global: { maxconn: 500 } });
  raw.frontends.web.maxconn = 100;
  assert.is(valid(raw).frontends.web.maxconn, 100);
});

test('validate: the fin timeouts: clientFin as given, serverFin as given or else the backend\'s timeout.server', () => {
  const raw = minimal();
  raw.frontends.web.timeout = { clientFin: '250ms' };
  raw.backends.app.timeout = { server: '12s', serverFin: '2s' };
  const config = valid(raw);
  assert.is(config.frontends.web.timeout.clientFin, 250);
  assert.is(config.backends.app.timeout.serverFin, 2000);
  raw.backends.app.timeout = { server: '12s', tunnel: '1h' };
  assert.is(valid(raw).backends.app.timeout.serverFin, 12_000, 'the server timeout, not the tunnel one');
});

test('validate: the full example normalizes to the documented shape', () => {
  const raw = {
    global: { groups: 2, threads: 1, maxconn: 20000, hardStopAfter: '30s', log: { level: 'info' } },
    frontends: {
      web: {
        bind: ['127.0.0.1:8080', '[::1]:8080'],
        mode: 'tcp',
        maxconn: 10000,
        backlog: 1024,
        timeout: { client: '30s' },
        backend: 'app',
      },
    },
    backends: {
      app: {
        balance: 'roundrobin',
        retries: 3,
        redispatch: true,
        timeout: { connect: '5s', server: '30s', queue: '10s', tunnel: '1h' },
        servers: { s1: { address: '127.0.0.1:9000', maxconn: 500 }, s2: { address: '127.0.0.1:9001', weight: 2 } },
      },
      greeter: { service: 'hello' },
    },
  };
  const expected: Config = {
    global: { groups: 2, threads: 1, shards: 1, maxconn: 20000, hardStopAfter: 30_000, maxReloads: 50, masterSocket: defaultMasterSocket(), masterSocketAccess: { mode: 0o600 }, log: { level: 'info', format: 'json', access: true } },
    frontends: {
      web: {
        name: 'web',
        bind: [
          {
            text: '127.0.0.1:8080',
            key: 'tcp:127.0.0.1:8080',
            address: { kind: 'tcp', host: '127.0.0.1', port: 8080, family: 4, v6only: false },
          },
          { text: '[::1]:8080', key: 'tcp:[::1]:8080', address: { kind: 'tcp', host: '::1', port: 8080, family: 6, v6only: false } },
        ],
        mode: 'tcp',
        maxconn: 10000,
        backlog: 1024,
        timeout: { client: 30_000, clientFin: 1_000, flow: 30_000, handshake: 10_000, proxyHeader: 30_000 },
        maxFlows: 10000,
        flowKey: 'address',
        quicDcidLength: 8,
        backend: 'app',
      },
    },
    backends: {
      app: {
        name: 'app',
        balance: { algorithm: 'roundrobin' },
        retries: 3,
        redispatch: true,
        timeout: { connect: 5_000, server: 30_000, serverFin: 30_000, queue: 10_000, tunnel: 3_600_000 },
        servers: [
          { name: 's1', host: '127.0.0.1', port: 9000, weight: 1, maxconn: 500 },
          { name: 's2', host: '127.0.0.1', port: 9001, weight: 2 },
        ],
      },
      greeter: {
        name: 'greeter',
        balance: { algorithm: 'roundrobin' },
        retries: 3,
        redispatch: true,
        timeout: { connect: 5_000, server: 30_000, serverFin: 30_000, queue: 5_000 },
        servers: [],
        service: 'hello',
      },
    },
  };
  assert.equal(valid(raw), expected);
});

test('validate: the caller\'s object is not modified', () => {
  const raw = minimal();
  const before = JSON.stringify(raw);
  valid(raw);
  assert.is(JSON.stringify(raw), before);
});

test('validate: the result is plain data that survives JSON (IPC) unchanged', () => {
  const config = valid(minimal({ global: { groups: 3 } }));
  assert.equal(JSON.parse(JSON.stringify(config)), config);
});

test('validate: a single bind string is accepted', () => {
  const config = valid(frontendWithBind('127.0.0.1:8080'));
  assert.is(config.frontends.web.bind.length, 1);
  assert.is(config.frontends.web.bind[0].key, 'tcp:127.0.0.1:8080');
});

test('validate: bind objects carry unix socket options', () => {
  const config = valid(
    frontendWithBind([
      { address: 'unix@/run/ferry/a.sock', mode: '0660', user: 'ferry', group: 'www' },
      { address: 'unix@/run/ferry/b.sock', mode: 432 },
      { address: ':::8080', v6only: true },
    ]),
  );
  assert.equal(
    config.frontends.web.bind.map((b) => b.address),
    [
      { kind: 'unix', path: '/run/ferry/a.sock', mode: 0o660, user: 'ferry', group: 'www' },
      { kind: 'unix', path: '/run/ferry/b.sock', mode: 0o660 },
      { kind: 'tcp', host: '::', port: 8080, family: 6, v6only: true },
    ],
  );
  assert.is(config.frontends.web.bind[2].text, ':::8080');
});

test('validate: ephemeral-port binds get distinct keys and never conflict', () => {
  const raw = minimal();
  raw.frontends.web.bind = ['127.0.0.1:0', '127.0.0.1:0'];
  raw.frontends.api = { bind: '127.0.0.1:0', backend: 'app' };
  const config = valid(raw);
  const keys = [...config.frontends.web.bind, ...config.frontends.api.bind].map((b) => b.key);
  assert.is(new Set(keys).size, 3);
  assert.ok(keys.every((k) => k.startsWith('tcp:127.0.0.1:0')));
});

// ---------------------------------------------------------------------------------------------
// validation: problems

test('validate: typos are unknown keys at every depth', () => {
  const raw = minimal({ globl: {}, global: { grups: 2, log: { levl: 'info' } } });
  raw.frontends.web.maxconnn = 5;
  raw.frontends.web.timeout = { clinet: '1s' };
  raw.backends.app.timeout = { conect: '1s' };
  raw.backends.app.servers.s1.wieght = 3;
  const problems = problemsOf(raw);
  for (const line of [
    'globl: unknown key, did you mean "global"? (expected one of: global, frontends, backends, $schema)',
    'global.grups: unknown key, did you mean "groups"? (expected one of: groups, threads, shards, maxconn, hardStopAfter, maxReloads, masterSocket, masterSocketAccess, stateFile, user, group, log)',
    'global.log.levl: unknown key, did you mean "level"? (expected one of: level, format, access)',
    'frontends.web.maxconnn: unknown key, did you mean "maxconn"? (expected one of: bind, mode, maxconn, backlog, timeout, http, maxFlows, maxFlowRate, flowKey, quicDcidLength, backend, rules)',
    'frontends.web.timeout.clinet: unknown key, did you mean "client"? (expected one of: client, clientFin, flow, handshake, proxyHeader, httpRequest, httpKeepAlive)',
    'backends.app.timeout.conect: unknown key, did you mean "connect"? (expected one of: connect, server, serverFin, queue, tunnel)',
    'backends.app.servers.s1.wieght: unknown key, did you mean "weight"? (expected one of: address, weight, maxconn, check, backup, slowstart, pool, sendProxy, tls)',
  ]) {
    assert.ok(problems.includes(line), `missing: ${line}\nin:\n${problems.join('\n')}`);
  }
  assert.is(problems.length, 7);
});

test('validate: out-of-range and mistyped values say what was expected and found', () => {
  const raw = minimal({ global: { groups: 0, threads: 65, maxconn: 1.5, log: { level: 'loud' } } });
  raw.frontends.web.mode = 'quic';
  raw.frontends.web.backlog = '1024';
  raw.backends.app.retries = 101;
  raw.backends.app.redispatch = 'yes';
  raw.backends.app.balance = 'leastconns';
  raw.backends.app.servers.s1.weight = 257;
  assert.equal(problemsOf(raw), [
    'frontends.web.mode: expected one of "tcp", "udp", "http", found "quic"',
    'frontends.web.backlog: expected an integer from 1 to 65535, found "1024"',
    'backends.app.balance: expected one of "roundrobin", "leastconn", "source", "random" or "random(N)" (N draws, 1 to 16), or in HTTP mode "uri", "uri(whole)" or "hdr(name)", found "leastconns"',
    'backends.app.retries: expected an integer from 0 to 100, found 101',
    'backends.app.redispatch: expected true or false, found "yes"',
    'backends.app.servers.s1.weight: expected an integer from 0 to 256, found 257',
    'global.groups: expected an integer from 1 to 64, found 0',
    'global.threads: expected an integer from 1 to 64, found 65',
    'global.maxconn: expected an integer from 1 to 1000000, found 1.5',
    'global.log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", found "loud"',
  ]);
});

test('validate: bad durations', () => {
  const raw = minimal({ global: { hardStopAfter: -1 } });
  raw.frontends.web.timeout = { client: '30x', clientFin: 'soon' };
  raw.backends.app.timeout = { connect: true, serverFin: -5, tunnel: '30d' };
  assert.equal(problemsOf(raw), [
    'frontends.web.timeout.client: expected a duration such as "250ms", "30s" or "5m", found "30x"',
    'frontends.web.timeout.clientFin: expected a duration such as "250ms", "30s" or "5m", found "soon"',
    'backends.app.timeout.connect: expected a duration such as "250ms", "30s" or "5m", found true',
    'backends.app.timeout.serverFin: expected a duration such as "250ms", "30s" or "5m", found -5',
    'backends.app.timeout.tunnel: "30d" is too long: timers cannot wait longer than 2147483647ms (about 24.8 days)',
    'global.hardStopAfter: expected a duration such as "250ms", "30s" or "5m", found -1',
  ]);
});

test('validate: bind problems point at the entry', () => {
  assert.equal(problemsOf(frontendWithBind(['127.0.0.1:8080', '1.2.3.4:99999'])), [
    'frontends.web.bind[1]: "1.2.3.4:99999": port must be 0-65535',
  ]);
  assert.equal(problemsOf(frontendWithBind('udp@0.0.0.0:53')), [
    'frontends.web.bind: "udp@0.0.0.0:53": a UDP bind cannot take every address (replies would not come from the address the client sent to); bind each address instead, e.g. \"udp@127.0.0.1:53\"',
  ]);
  assert.equal(problemsOf(frontendWithBind(['127.0.0.1:8080', 'fd@'])), [
    'frontends.web.bind[1]: "fd@": fd@ needs the name of a socket passed by the service manager, e.g. "fd@web" (FileDescriptorName= in the .socket unit)',
  ]);
  assert.equal(problemsOf(frontendWithBind(['fd@web', { address: 'fd@web', mode: '0600' }])), [
    'frontends.web.bind[1].mode: "mode" applies only to unix@ binds, and "fd@web" is not one',
  ]);
  assert.equal(problemsOf(frontendWithBind([])), ['frontends.web.bind: expected at least one bind address, found []']);
  assert.equal(problemsOf(frontendWithBind([8080])), [
    'frontends.web.bind[0]: expected a bind address such as "127.0.0.1:8080" or "unix@/run/ferry.sock", or an object with an "address", found 8080',
  ]);
});

test('validate: bind object problems', () => {
  assert.equal(
    problemsOf(
      frontendWithBind([
        { address: '127.0.0.1:80', mode: '0660', v6only: false },
        { address: 'unix@/run/x.sock', mode: 660, user: '', owner: 'me' },
        { mode: '0600' },
        { address: 'abns@x', group: 'www' },
      ]),
    ),
    [
      'frontends.web.bind[0].mode: "mode" applies only to unix@ binds, and "127.0.0.1:80" is not one',
      'frontends.web.bind[0].v6only: "v6only" applies only to IPv6 binds such as ":::8080", and "127.0.0.1:80" is not one',
      'frontends.web.bind[1].owner: unknown key (expected one of: address, mode, user, group, v6only, tls, acceptProxy, shards)',
      'frontends.web.bind[1].mode: expected a file mode such as "0660" (octal, in a string) or 432, found 660',
      'frontends.web.bind[1].user: expected a user name or a numeric id, such as "ferry" or 1000, found ""',
      'frontends.web.bind[2].address: required key is missing (expected a bind address such as "127.0.0.1:8080" or "unix@/run/ferry.sock")',
      'frontends.web.bind[3].group: "group" applies only to unix@ binds, and "abns@x" is not one',
    ],
  );
});

test('validate: unknown backend lists the defined ones', () => {
  const raw = minimal();
  raw.backends.greeter = { service: 'hello' };
  raw.frontends.web.backend = 'ap';
  assert.equal(problemsOf(raw), ['frontends.web.backend: no backend named "ap" (defined: app, greeter)']);
  const none = { frontends: { web: { bind: '127.0.0.1:1', backend: 'app' } } };
  assert.equal(problemsOf(none), ['frontends.web.backend: no backend named "app" (no backends are defined)']);
});

test('validate: the same bind in two frontends', () => {
  const raw = minimal();
  raw.frontends.api = { bind: ['127.0.0.1:8080'], backend: 'app' };
  assert.equal(problemsOf(raw), ['frontends.api.bind[0]: "127.0.0.1:8080" is already bound by frontends.web.bind[0]']);
});

test('validate: the same bind spelled differently, and within one frontend', () => {
  const raw = minimal();
  raw.frontends.web.bind = ['*:80', '0.0.0.0:80', 'unix@/run/a.sock'];
  raw.frontends.api = { bind: ['[0::1]:81', 'unix@/run/a.sock'], backend: 'app' };
  raw.frontends.adm = { bind: '[::1]:81', backend: 'app' };
  assert.equal(problemsOf(raw), [
    'frontends.web.bind[1]: "0.0.0.0:80" is already bound by frontends.web.bind[0]',
    'frontends.api.bind[1]: "unix@/run/a.sock" is already bound by frontends.web.bind[2]',
    'frontends.adm.bind: "[::1]:81" is already bound by frontends.api.bind[0]',
  ]);
});

test('validate: wildcards overlap specific addresses on the same port', () => {
  const raw = minimal();
  raw.frontends.web.bind = ['127.0.0.1:80', '127.0.0.1:81'];
  raw.frontends.any4 = { bind: '*:80', backend: 'app' };
  raw.frontends.any6 = { bind: ':::81', backend: 'app' };
  assert.equal(problemsOf(raw), [
    'frontends.any4.bind: "*:80" overlaps "127.0.0.1:80", bound by frontends.web.bind[0]',
    'frontends.any6.bind: ":::81" overlaps "127.0.0.1:81", bound by frontends.web.bind[1]',
  ]);
});

test('validate: v6only wildcards and different families coexist', () => {
  const raw = minimal();
  raw.frontends.web.bind = ['*:80', { address: ':::80', v6only: true }, '[::1]:81', '127.0.0.1:81', '127.0.0.2:81'];
  valid(raw);
});

test('validate: a backend needs servers, a service or a return, one of them', () => {
  const raw = minimal();
  raw.backends.app.service = 'echo';
  raw.backends.empty = {};
  raw.backends.none = { servers: {} };
  assert.equal(problemsOf(raw), [
    'backends.app: has "servers" and "service"; a backend forwards to servers, runs a built-in service or returns a fixed response: one of them',
    'backends.empty: needs "servers" (e.g. {"s1": {"address": "127.0.0.1:9000"}}), "service" ("echo" or "hello" for TCP, "health" for HTTP) or "return" (HTTP, e.g. {"status": 404})',
    'backends.none.servers: expected a non-empty map of server names to servers, such as {"s1": {"address": "127.0.0.1:9000"}}, found {}',
  ]);
});

test('validate: unknown service, bad server address, missing address', () => {
  const raw = minimal();
  raw.backends.svc = { service: 'chargen' };
  raw.backends.app.servers = { s1: { address: '127.0.0.1:0' }, s2: { weight: 1 }, s3: { address: 9000 } };
  assert.equal(problemsOf(raw), [
    'backends.app.servers.s1.address: "127.0.0.1:0": port must be 1-65535',
    'backends.app.servers.s2.address: required key is missing (expected a server address such as "127.0.0.1:9000", "[::1]:9000" or "db.internal:5432")',
    'backends.app.servers.s3.address: expected a server address such as "127.0.0.1:9000", "[::1]:9000" or "db.internal:5432", found 9000',
    'backends.svc.service: expected one of "echo", "hello", "health", "stats", found "chargen"',
  ]);
});

test('validate: names are checked, and odd names are quoted in paths', () => {
  const raw = minimal();
  raw.frontends['my web'] = { bind: '127.0.0.1:81', backend: 'app', extra: 1 };
  raw.backends.app.servers['s/1'] = { address: '127.0.0.1:9001' };
  assert.equal(problemsOf(raw), [
    'frontends["my web"].extra: unknown key (expected one of: bind, mode, maxconn, backlog, timeout, http, maxFlows, maxFlowRate, flowKey, quicDcidLength, backend, rules)',
    'frontends["my web"]: invalid name "my web" (names may contain only letters, digits, "_", "." and "-")',
    'backends.app.servers["s/1"]: invalid name "s/1" (names may contain only letters, digits, "_", "." and "-")',
  ]);
  valid({ frontends: { 'a.b-c_1': { bind: '127.0.0.1:1', backend: 'x.y' } }, backends: { 'x.y': { service: 'echo' } } });
});

test('validate: required sections and keys', () => {
  assert.equal(problemsOf({}), [
    'frontends: required key is missing (expected a map of frontend names to frontends, with at least one entry)',
  ]);
  assert.equal(problemsOf({ frontends: {} }), [
    'frontends: expected a map of frontend names to frontends, with at least one entry, found {}',
  ]);
  assert.equal(problemsOf({ frontends: { web: {} }, backends: { app: { service: 'echo' } } }), [
    'frontends.web.bind: required key is missing (expected a list of bind addresses such as ["127.0.0.1:8080"])',
    'frontends.web.backend: required key is missing (expected the name of a backend)',
  ]);
  assert.equal(problemsOf(5), ['(top level): expected an object with the keys global, frontends, backends, $schema, found 5']);
  assert.equal(problemsOf(minimal({ global: [] })), [
    'global: expected an object with the keys groups, threads, shards, maxconn, hardStopAfter, maxReloads, masterSocket, masterSocketAccess, stateFile, user, group, log, found []',
  ]);
});

test('validate: many problems are listed together, grouped by place, each once', () => {
  const raw = {
    global: { groups: 0 },
    frontends: {
      web: { bind: ['127.0.0.1:8080', '1.2.3.4:99999'], maxconnn: 1, timeout: { client: '30x' }, backend: 'ap' },
      api: { bind: '127.0.0.1:8080', backend: 'app' },
    },
    backends: { app: { servers: { s1: { address: '127.0.0.1:9000' } } }, greeter: { service: 'hello' } },
  };
  assert.equal(problemsOf(raw), [
    'global.groups: expected an integer from 1 to 64, found 0',
    'frontends.web.maxconnn: unknown key, did you mean "maxconn"? (expected one of: bind, mode, maxconn, backlog, timeout, http, maxFlows, maxFlowRate, flowKey, quicDcidLength, backend, rules)',
    'frontends.web.bind[1]: "1.2.3.4:99999": port must be 0-65535',
    'frontends.web.timeout.client: expected a duration such as "250ms", "30s" or "5m", found "30x"',
    'frontends.web.backend: no backend named "ap" (defined: app, greeter)',
    'frontends.api.bind: "127.0.0.1:8080" is already bound by frontends.web.bind[0]',
  ]);
});

test('validate: no raw ajv wording reaches the user, long values are truncated', () => {
  const raw = minimal({ global: { groups: 'x'.repeat(200), extra: true } });
  raw.frontends.web.backend = '';
  const problems = problemsOf(raw);
  assert.ok(problems.every((p) => !/\bmust\b|NOT have/.test(p)), problems.join('\n'));
  const groups = problems.find((p) => p.startsWith('global.groups:'))!;
  assert.ok(groups.endsWith('...'), groups);
  assert.ok(groups.length < 140, groups);
  assert.ok(problems.includes('frontends.web.backend: expected the name of a backend, found ""'));
});

// ---------------------------------------------------------------------------------------------
// layering with nconf

test('nconf layering: nested objects merge, arrays replace, inputs stay untouched', () => {
  const low = { global: { groups: 1, log: { level: 'info' } }, frontends: { web: { bind: ['a', 'b'], backend: 'x' } } };
  const high = { global: { groups: 3 }, frontends: { web: { bind: ['c'] } } };
  const lowBefore = JSON.stringify(low);
  const merged = mergeLayers([high, low]);
  assert.equal(merged, {
    global: { groups: 3, log: { level: 'info' } },
    frontends: { web: { bind: ['c'], backend: 'x' } },
  });
  assert.is(JSON.stringify(low), lowBefore);
  assert.equal(high, { global: { groups: 3 }, frontends: { web: { bind: ['c'] } } });
});

test('nconf layering: keys with ":" or "__proto__" are kept as ordinary keys', () => {
  const merged = mergeLayers([{ frontends: { 'a:b': { x: 1 } } }, { frontends: { c: {} } }]);
  assert.equal(Object.keys(merged.frontends as object), ['c', 'a:b']);
  const proto = mergeLayers([JSON.parse('{"frontends": {"__proto__": {"x": 1}}}'), { frontends: { c: {} } }]);
  assert.ok(Object.hasOwn(proto.frontends as object, '__proto__'));
});

test('nconf layering: null unsets a key', () => {
  assert.equal(mergeLayers([{ a: { b: null } }, { a: { b: 1, c: 2 } }]), { a: { c: 2 } });
});

// ---------------------------------------------------------------------------------------------
// loading

test('load: without a file, the embedded default configuration', () => {
  const config = loadConfig({ env: {} });
  assert.is(config.global.groups, 2);
  assert.equal(Object.keys(config.frontends), ['default', 'echo', 'stats']);
  assert.equal(config.frontends.default.bind.map((b) => b.key), ['tcp:127.0.0.1:8080']);
  assert.equal(config.frontends.echo.bind.map((b) => b.key), ['tcp:127.0.0.1:8081']);
  assert.equal(config.frontends.stats.bind.map((b) => b.key), ['tcp:127.0.0.1:8404'], 'the stats service on the loopback only');
  assert.is(config.backends.stats.service, 'stats');
  assert.is(config.frontends.default.mode, 'http');
  assert.is(config.frontends.default.backend, 'hello');
  assert.equal(config.frontends.default.rules, [{ if: { pathPrefix: '/health' }, backend: 'health' }]);
  assert.is(config.frontends.echo.backend, 'echo');
  assert.is(config.backends.hello.return!.status, 200);
  assert.is(config.backends.health.service, 'health');
  assert.is(config.backends.echo.service, 'echo');
});

test('load: the embedded default is not changed by loading with overrides', () => {
  const before = JSON.stringify(DEFAULT_CONFIG);
  loadConfig({ env: { FERRY_GLOBAL__GROUPS: '3' }, overrides: ['frontends.default.backlog=5', 'global.log.level=debug'] });
  assert.is(JSON.stringify(DEFAULT_CONFIG), before);
  assert.is(loadConfig({ env: {} }).frontends.default.backlog, 1024);
});

test('load: a file replaces the embedded default entirely', () => {
  const config = loadConfig({ file: writeConfig(minimal()), env: {} });
  assert.equal(Object.keys(config.frontends), ['web']);
  assert.equal(Object.keys(config.backends), ['app']);
  assert.is(config.global.groups, 1);
});

test('load: precedence is --set > environment > file', () => {
  const file = writeConfig(minimal({ global: { groups: 2, threads: 2 } }));
  assert.is(loadConfig({ file, env: {} }).global.groups, 2);
  assert.is(loadConfig({ file, env: { FERRY_global__groups: '3' } }).global.groups, 3);
  const all = loadConfig({ file, env: { FERRY_global__groups: '3' }, overrides: ['global.groups=4'] });
  assert.is(all.global.groups, 4);
  assert.is(all.global.threads, 2, 'siblings from the file survive the nested merge');
});

test('load: environment names match fixed keys case-insensitively, user names as written', () => {
  const file = writeConfig(minimal());
  const config = loadConfig({
    file,
    env: { FERRY_GLOBAL__GROUPS: '5', FERRY_FRONTENDS__web__TIMEOUT__CLIENT: '"1m"', FERRY_Backends__app__RETRIES: '0' },
  });
  assert.is(config.global.groups, 5);
  assert.is(config.frontends.web.timeout.client, 60_000);
  assert.is(config.backends.app.retries, 0);
});

test('load: environment variables that are not settings are ignored; misspelt sections are not', () => {
  const env = { FERRY_CONFIG: '/etc/ferry.json', PATH: '/bin', FERRY_global__groups: '2' };
  assert.is(loadConfig({ env }).global.groups, 2);
  const result = loadConfigOrProblems({ env: { FERRY_GLOBL__GROUPS: '2' } });
  assert.equal(result.problems, ['FERRY_GLOBL__GROUPS: unknown section "GLOBL", did you mean "global"? (expected one of: global, frontends, backends)']);
});

test('load: two spellings of one environment key are ambiguous', () => {
  const result = loadConfigOrProblems({ env: { FERRY_GLOBAL__GROUPS: '2', FERRY_global__groups: '3' } });
  assert.equal(result.problems, ['FERRY_GLOBAL__GROUPS and FERRY_global__groups set the same key global.groups; keep only one']);
});

test('load: --set values are JSON when they parse, strings otherwise', () => {
  const config = loadConfig({
    env: {},
    overrides: ['frontends.default.bind=["127.0.0.1:0"]', 'frontends.echo.bind=127.0.0.1:0', 'global.log.level=warn', 'global.groups=4'],
  });
  assert.is(config.frontends.default.bind[0].address.kind, 'tcp');
  assert.is(config.frontends.default.bind.length, 1);
  assert.is(config.frontends.echo.bind[0].text, '127.0.0.1:0');
  assert.is(config.global.log.level, 'warn');
  assert.is(config.global.groups, 4);
});

test('load: later --set wins, and a deeper --set refines a whole-object one', () => {
  const config = loadConfig({ env: {}, overrides: ['global.threads=3', 'global={"groups": 5}', 'global.threads=2'] });
  assert.is(config.global.groups, 5);
  assert.is(config.global.threads, 2);
  assert.is(loadConfig({ env: {}, overrides: ['global.groups=3', 'global.groups=6'] }).global.groups, 6);
});

test('load: --set KEY=null removes an inherited entry', () => {
  const config = loadConfig({ env: {}, overrides: ['frontends.echo=null', 'backends.echo=null'] });
  assert.equal(Object.keys(config.frontends), ['default', 'stats']);
  assert.equal(Object.keys(config.backends), ['hello', 'health', 'stats']);
});

test('load: a bad --set is a problem', () => {
  const result = loadConfigOrProblems({ env: {}, overrides: ['global.groups', '=4', 'global..groups=4'] });
  assert.is(result.config, undefined);
  assert.equal(result.problems, [
    '--set global.groups: expected KEY=VALUE with a dotted key, e.g. --set global.groups=4',
    '--set =4: expected KEY=VALUE with a dotted key, e.g. --set global.groups=4',
    '--set global..groups=4: expected KEY=VALUE with a dotted key, e.g. --set global.groups=4',
  ]);
});

test('load: problems caused by overrides name the override', () => {
  const file = writeConfig(minimal());
  const result = loadConfigOrProblems({
    file,
    env: { FERRY_FRONTENDS__web__MAXCONN: '0' },
    overrides: ['global.groups=99', 'frontends.web.typo=1'],
  });
  assert.equal(result.problems, [
    'frontends.web.typo: unknown key (expected one of: bind, mode, maxconn, backlog, timeout, http, maxFlows, maxFlowRate, flowKey, quicDcidLength, backend, rules) (set by --set frontends.web.typo=1)',
    'frontends.web.maxconn: expected an integer from 1 to 1000000, found 0 (set by FERRY_FRONTENDS__web__MAXCONN)',
    'global.groups: expected an integer from 1 to 64, found 99 (set by --set global.groups=99)',
  ]);
});

test('load: a missing file', () => {
  const file = path.join(tmp, 'does-not-exist.json');
  const result = loadConfigOrProblems({ file, env: {} });
  assert.equal(result.problems, [`cannot read config file "${file}": no such file (pass -c with an existing JSON file)`]);
  try {
    loadConfig({ file, env: {} });
    assert.unreachable('loadConfig should throw');
  } catch (err) {
    assert.instance(err, ConfigError);
    const e = err as ConfigError;
    assert.equal(e.problems, result.problems);
    assert.is(e.message, `invalid configuration in "${file}":\n${result.problems[0]}`);
  }
});

test('load: a syntax error names the line, the column and what is wrong, on one line', () => {
  const cases: [string, string][] = [
    ['{\n  "global": {\n    "groups": }\n}', "line 3, column 15: expected a value, found '}'"],
    ['{\n  "global": { "groups": 2 }\n  "frontends": {}\n}', 'line 3, column 3: expected "," before "frontends"'],
    ['{\n  "global": {\n    "groups": 2\n', 'line 4, column 1: expected "," or "}" to close the object opened at line 2, column 13, found the end of the file'],
    ['{\n  "frontends": { "web": { "bind": ["127.0.0.1:80" } }\n}', 'line 2, column 51: expected "," or "]" to close the list opened at line 2, column 35, found \'}\''],
    ["{ 'global': {} }", "line 1, column 3: strings and keys are written in double quotes, found 'global'"],
    ['{ global: {} }', "line 1, column 3: unexpected 'global' (keys and strings are written in double quotes)"],
    ['{ "a": "two\nlines" }', 'line 1, column 8: a string is not closed on its line (write a line break inside a string as \\n)'],
    ['{ "a": "\\q" }', 'line 1, column 8: invalid escape "\\q" in a string'],
    ['{ "a": 1 /* left open', 'line 1, column 10: a /* comment is not closed with */'],
    ['// a note\n/* left open', 'line 2, column 1: a /* comment is not closed with */'],
    ['{ "a": 1 } { "b": 2 }', "line 1, column 12: expected the end of the file after the top-level object, found '{'"],
    // Columns count characters, and Windows line ends are one line end.
    ['{ /* \u{1F600} */ "a": }', "line 1, column 16: expected a value, found '}'"],
    ['{\r\n  "a": 1,\r\n  "b": }', "line 3, column 8: expected a value, found '}'"],
  ];
  for (const [text, where] of cases) {
    const file = writeConfig(text);
    const [line, ...rest] = loadConfigOrProblems({ file, env: {} }).problems;
    assert.equal(rest, []);
    assert.ok(line.startsWith(`config file "${file}" is not valid JSON at ${where}`), `${JSON.stringify(text)}:\n${line}`);
    assert.not.match(line, /[\n\r]/);
  }
  for (const empty of ['', '  \n', '// nothing yet\n']) {
    const file = writeConfig(empty);
    assert.equal(loadConfigOrProblems({ file, env: {} }).problems, [`config file "${file}" is empty: expected a JSON object such as {"frontends": {...}}`]);
  }
});

test('load: comments and trailing commas are allowed; comment marks inside strings are text', () => {
  const file = writeConfig(`// ferry
{
  /* the listeners */
  "frontends": {
    "web": { "bind": ["127.0.0.1:8080",], "backend": "app", }, // a trailing comma, twice
  },
  "backends": { "app": { "servers": { "s1": { "address": "127.0.0.1:9000" } } } },
}
`);
  const config = loadConfig({ file, env: {} });
  assert.equal(config.frontends.web.bind.map((b) => b.text), ['127.0.0.1:8080']);
  assert.equal(parseConfigText('{ "note": "http://x/* y */ // z" }', 'f.json'), { data: { note: 'http://x/* y */ // z' }, problems: [] });
});

test('load: a YAML, TOML or other file is told that the format is JSON with comments, and where it went wrong', () => {
  const format = 'the configuration is JSON, with // and /* */ comments and trailing commas allowed';
  const cases: [string, string][] = [
    ['global:\n  groups: 2\nfrontends:\n  web:\n    bind: ["127.0.0.1:80"]\n', `looks like YAML, but ${format}; at line 1, column 1 expected "{" to open it, found 'global'`],
    ['# ferry\n\nglobal:\n  groups: 2\n', `looks like YAML, but ${format}; at line 1, column 1 expected "{" to open it, found '#'`],
    ['---\nglobal: {}\n', `looks like YAML, but ${format}; at line 1, column 1 expected "{" to open it, found '-'`],
    ['\n[global]\ngroups = 2\n', `looks like TOML or INI, but ${format}; at line 2, column 1 expected "{" to open it, found '['`],
    ['<ferry/>', `looks like XML, but ${format}; at line 1, column 1 expected "{" to open it, found '<ferry'`],
    ['groups 2', `is not JSON: ${format}; at line 1, column 1 expected "{" to open it, found 'groups'`],
  ];
  for (const [text, message] of cases) {
    const file = writeConfig(text);
    assert.equal(loadConfigOrProblems({ file, env: {} }).problems, [`config file "${file}" ${message}`]);
  }
});

test('load: "$schema" is accepted at the top level and ignored; elsewhere, and notes as keys, are refused with what to do', () => {
  const config = loadConfig({ file: writeConfig({ $schema: './ferry.schema.json', ...minimal() }), env: {} });
  assert.equal(Object.keys(config), ['global', 'frontends', 'backends']);
  const raw = minimal({ _comment: 'hello' });
  raw.frontends.web.$schema = './ferry.schema.json';
  raw.frontends.web['//'] = 'a note';
  assert.equal(problemsOf(raw), [
    'frontends.web.$schema: unknown key: "$schema" is only read at the top level of the file (expected one of: bind, mode, maxconn, backlog, timeout, http, maxFlows, maxFlowRate, flowKey, quicDcidLength, backend, rules)',
    'frontends.web["//"]: unknown key: for a note, or to leave a key out, write a // or /* */ comment, which the file allows (expected one of: bind, mode, maxconn, backlog, timeout, http, maxFlows, maxFlowRate, flowKey, quicDcidLength, backend, rules)',
    '_comment: unknown key: for a note, or to leave a key out, write a // or /* */ comment, which the file allows (expected one of: global, frontends, backends, $schema)',
  ]);
  assert.equal(problemsOf(minimal({ $schema: 42 })), ['$schema: expected the path or URL of this schema, for editors, such as "./ferry.schema.json" (ferry ignores it), found 42']);
});

test('validate: an unknown key close to a known key of the same object is named; a far one is not', () => {
  const raw = minimal();
  Object.assign(raw.frontends.web, { MaxConn: 5, bakend: 'app', listen: '127.0.0.1:1' });
  raw.backends.app.servers.s1.adress = '127.0.0.1:9001';
  raw.frontends.web.bind = [{ address: '127.0.0.1:8080', v6onyl: true }];
  const problems = problemsOf(raw);
  for (const line of [
    'frontends.web.MaxConn: unknown key, did you mean "maxconn"?',
    'frontends.web.bakend: unknown key, did you mean "backend"?',
    'frontends.web.listen: unknown key (expected one of:',
    'frontends.web.bind[0].v6onyl: unknown key, did you mean "v6only"?',
    'backends.app.servers.s1.adress: unknown key, did you mean "address"?',
  ]) {
    assert.ok(problems.some((p) => p.startsWith(line)), `missing: ${line}\nin:\n${problems.join('\n')}`);
  }
  // Only keys of the same object are guessed: "maxconn" of global is not offered in a server's check.
  assert.equal(problemsOf(minimal({ global: { log: { maxconn: 1 } } })), ['global.log.maxconn: unknown key (expected one of: level, format, access)']);
});

test('closest: one edit for short words, two for longer ones, case ignored, swaps count once', () => {
  assert.is(editDistance('maxconnn', 'maxconn'), 1);
  assert.is(editDistance('wieght', 'weight'), 1);
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(closest('maxcon', ['maxconn', 'backlog']), 'maxconn');
  assert.is(closest('MAXCONN', ['maxconn']), 'maxconn');
  assert.is(closest('mod', ['mode']), 'mode');
  assert.is(closest('mdoe', ['mode']), 'mode');
  assert.is(closest('md', ['mode']), undefined);
  assert.is(closest('bakcned', ['backend']), 'backend', 'two swaps in a long word');
  assert.is(closest('bcknd', ['backend']), undefined, 'two edits in a short word make another word');
  assert.is(closest('timeout', ['timeout']), undefined, 'a known key is no typo');
  assert.is(closest('grups', ['groups', 'group']), 'groups', 'the nearest, the first on a tie');
});

test('load: the top level of the file must be an object', () => {
  const file = writeConfig('[1, 2]');
  assert.equal(loadConfigOrProblems({ file, env: {} }).problems, [
    `config file "${file}": expected a JSON object at the top level, found [1,2]`,
  ]);
});

test('load: a byte-order mark is tolerated', () => {
  const file = writeConfig(`\uFEFF${JSON.stringify(minimal())}`);
  assert.ok(loadConfig({ file, env: {} }).frontends.web);
});

test('load: file validation problems come with the file name in the error message', () => {
  const raw = minimal();
  raw.frontends.web.backend = 'ap';
  const file = writeConfig(raw);
  try {
    loadConfig({ file, env: {} });
    assert.unreachable('loadConfig should throw');
  } catch (err) {
    assert.instance(err, ConfigError);
    const e = err as ConfigError;
    assert.equal(e.problems, ['frontends.web.backend: no backend named "ap" (defined: app)']);
    assert.is(e.message.split('\n')[0], `invalid configuration in "${file}":`);
  }
});

test.run();
