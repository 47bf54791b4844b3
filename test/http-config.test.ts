import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { validateConfig } from '../src/config/validate';
import { runCli } from './helpers/ferry';

function httpConfig(frontend: Record<string, unknown>, server: Record<string, unknown> = {}): Record<string, any> {
  return {
    frontends: { web: { mode: 'http', bind: ['127.0.0.1:8080'], backend: 'app', ...frontend } },
    backends: { app: { servers: { s1: { address: '127.0.0.1:9000', ...server } } } },
  };
}

function problemsOf(raw: unknown): string[] {
  const { config, problems } = validateConfig(raw);
  assert.is(config, undefined);
  return problems;
}

test('an http frontend: defaults for its timeouts, forwarding fields and head limits', () => {
  const { config, problems } = validateConfig(httpConfig({}));
  assert.equal(problems, []);
  const web = config!.frontends.web;
  assert.is(web.mode, 'http');
  assert.equal(web.timeout, { client: 30_000, clientFin: 1_000, flow: 30_000, handshake: 10_000, httpRequest: 10_000, httpKeepAlive: 10_000, proxyHeader: 30_000 });
  assert.equal(web.http, { xForwardedFor: true, xForwardedProto: true, forwarded: false, xClientCertSubject: false, maxRequestLine: 8192, maxHeaderSize: 32768, maxConcurrentStreams: 100 });
  assert.is(config!.backends.app.servers[0].pool, undefined, 'no pool section: the defaults apply');
});

test('an http frontend: settings as given', () => {
  const raw = httpConfig(
    { timeout: { httpRequest: '2s', httpKeepAlive: 500 }, http: { xForwardedFor: false, forwarded: true, xClientCertSubject: false, maxRequestLine: 1024, maxHeaderSize: 4096 } },
    { pool: { maxIdle: 0, idleTimeout: '1s' } },
  );
  const config = validateConfig(raw).config!;
  const web = config.frontends.web;
  assert.is(web.timeout.httpRequest, 2000);
  assert.is(web.timeout.httpKeepAlive, 500);
  assert.equal(web.http, { xForwardedFor: false, xForwardedProto: true, forwarded: true, xClientCertSubject: false, maxRequestLine: 1024, maxHeaderSize: 4096, maxConcurrentStreams: 100 });
  assert.equal(config.backends.app.servers[0].pool, { maxIdle: 0, idleTimeout: 1000 });
  assert.equal(validateConfig(httpConfig({}, { pool: { maxIdle: 3 } })).config!.backends.app.servers[0].pool, { maxIdle: 3, idleTimeout: 4000 });
});

test('bad values of every HTTP option say what was expected', () => {
  assert.equal(
    problemsOf(
      httpConfig(
        { timeout: { httpRequest: 0, httpKeepAlive: 'later' }, http: { xForwardedFor: 'yes', xForwardedProto: 1, forwarded: null, maxRequestLine: 100, maxHeaderSize: 2_000_000, via: true } },
        { pool: { maxIdle: -1, idleTimeout: '0s', size: 3 } },
      ),
    ),
    [
      'frontends.web.timeout.httpRequest: expected a duration above 0 such as "500ms" or "2s", found 0',
      'frontends.web.timeout.httpKeepAlive: expected a duration such as "250ms", "30s" or "5m", found "later"',
      'frontends.web.http.via: unknown key (expected one of: xForwardedFor, xForwardedProto, forwarded, xClientCertSubject, maxRequestLine, maxHeaderSize, maxConcurrentStreams)',
      'frontends.web.http.xForwardedFor: expected true or false, found "yes"',
      'frontends.web.http.xForwardedProto: expected true or false, found 1',
      'frontends.web.http.forwarded: expected true or false, found null',
      'frontends.web.http.maxRequestLine: expected an integer from 256 to 1048576, found 100',
      'frontends.web.http.maxHeaderSize: expected an integer from 256 to 1048576, found 2000000',
      'backends.app.servers.s1.pool.size: unknown key (expected one of: maxIdle, idleTimeout)',
      'backends.app.servers.s1.pool.maxIdle: expected an integer from 0 to 1000000, found -1',
      'backends.app.servers.s1.pool.idleTimeout: expected a duration above 0 such as "500ms" or "2s", found "0s"',
    ],
  );
});

test('a head limit below the request line limit is refused', () => {
  assert.equal(problemsOf(httpConfig({ http: { maxRequestLine: 4096, maxHeaderSize: 1024 } })), [
    'frontends.web.http.maxHeaderSize: is 1024, below maxRequestLine (4096); the head holds the request line, so make it at least as large',
  ]);
});

test('HTTP options outside HTTP mode are refused, and HTTP frontends need servers', () => {
  assert.equal(problemsOf(httpConfig({ mode: 'tcp', timeout: { httpRequest: '1s', httpKeepAlive: '1s' }, http: {} })), [
    'frontends.web.http: is an HTTP option; it needs "mode": "http"',
    'frontends.web.timeout.httpRequest: is an HTTP option; it needs "mode": "http"',
    'frontends.web.timeout.httpKeepAlive: is an HTTP option; it needs "mode": "http"',
  ]);
  assert.equal(problemsOf(httpConfig({ flowKey: 'none' })), ['frontends.web.flowKey: is a UDP option; it needs "mode": "udp"']);
  assert.equal(problemsOf({ frontends: { web: { mode: 'http', bind: ['127.0.0.1:8080'], backend: 'hello' } }, backends: { hello: { service: 'hello' } } }), [
    'frontends.web.backend: backend "hello" runs the built-in service "hello", which speaks TCP; an HTTP frontend needs a backend with "servers", a "return", "service": "health" or "service": "stats"',
  ]);
  assert.equal(problemsOf(httpConfig({ bind: ['udp@127.0.0.1:53'] })), [
    'frontends.web.bind[0]: "udp@127.0.0.1:53" is a UDP address; a frontend with UDP binds needs "mode": "udp" (and only UDP binds)',
  ]);
});

test('the stats service answers HTTP: a TCP frontend that uses it is told to be "mode": "http"', () => {
  assert.equal(problemsOf({ frontends: { admin: { bind: ['127.0.0.1:8404'], backend: 'stats' } }, backends: { stats: { service: 'stats' } } }), [
    'frontends.admin.backend: backend "stats" runs the built-in service "stats", which answers HTTP requests; frontend "admin" needs "mode": "http" for it',
  ]);
  const { config, problems } = validateConfig({ frontends: { admin: { bind: ['127.0.0.1:8404'], mode: 'http', backend: 'stats' } }, backends: { stats: { service: 'stats' } } });
  assert.equal(problems, []);
  assert.is(config?.backends.stats.service, 'stats');
});

test('the example etc/ferry-http.json is valid', async () => {
  const r = await runCli(['check', '-c', join(__dirname, '..', '..', 'etc', 'ferry-http.json'), '--no-bind']);
  assert.is(r.code, 0, r.stderr);
});

test.run();
