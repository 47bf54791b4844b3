import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backend } from '../src/backend/backend';
import { validateConfig } from '../src/config/validate';
import type { RuleConfig } from '../src/config/types';
import { Fields } from '../src/http/fields';
import { Reply } from '../src/http/reply';
import type { RequestHead } from '../src/http/request-head';
import { hostOf, Router } from '../src/http/router';
import { HealthService } from '../src/services/http-service';

const SERVERS = { servers: { s1: { address: '127.0.0.1:9000' } } };

function routed(rules: unknown[], backends: Record<string, unknown> = {}, frontend: Record<string, unknown> = {}): Record<string, any> {
  return {
    frontends: { web: { mode: 'http', bind: ['127.0.0.1:8080'], backend: 'app', rules, ...frontend } },
    backends: { app: SERVERS, api: SERVERS, ...backends },
  };
}

function problemsOf(raw: unknown): string[] {
  const { config, problems } = validateConfig(raw);
  assert.is(config, undefined);
  return problems;
}

test('rules: normalized with hosts and header names in lower case; conditions may combine', () => {
  const { config, problems } = validateConfig(
    routed([
      { if: { host: 'API.Example' }, backend: 'api' },
      { if: { host: '*.example.com', pathPrefix: '/v2/', header: { name: 'X-Canary', value: 'On' } }, backend: 'api' },
    ]),
  );
  assert.equal(problems, []);
  assert.equal(config!.frontends.web.rules, [
    { if: { host: 'api.example' }, backend: 'api' },
    { if: { host: '*.example.com', pathPrefix: '/v2/', header: { name: 'x-canary', value: 'On' } }, backend: 'api' },
  ]);
  assert.is(validateConfig(routed([])).config!.frontends.web.rules!.length, 0);
  assert.is(validateConfig(routed([])).config!.frontends.web.backend, 'app');
});

test('rules: an unknown backend, an empty or unknown condition, a bad value each say what is wrong', () => {
  assert.equal(
    problemsOf(
      routed([
        { if: { host: 'a.example' }, backend: 'nope' },
        { if: {}, backend: 'api' },
        { if: { path: '/x' }, backend: 'api' },
        { if: { host: 'a.example:80', pathPrefix: 'static' }, backend: 'api' },
        { if: { header: { name: 'x canary' } }, backend: 'api' },
        { backend: 'api' },
      ]),
    ),
    [
      'frontends.web.rules[2].if.path: unknown key (expected one of: host, pathPrefix, header)',
      'frontends.web.rules[3].if.host: expected a host name without port, such as "api.example.com" or "*.example.com", found "a.example:80"',
      'frontends.web.rules[3].if.pathPrefix: expected a path prefix that starts with "/", without spaces, such as "/static/", found "static"',
      'frontends.web.rules[4].if.header.value: required key is missing (expected a header value of printable ASCII characters)',
      'frontends.web.rules[4].if.header.name: expected a header field name such as "x-canary", found "x canary"',
      'frontends.web.rules[5].if: required key is missing (expected an object with one or more of the keys host, pathPrefix, header)',
      'frontends.web.rules[0].backend: no backend named "nope" (defined: app, api)',
      'frontends.web.rules[1].if: is empty; give one or more of host, pathPrefix, header (all given must hold)',
    ],
  );
});

test('rules: only on HTTP frontends, and to backends that speak HTTP', () => {
  assert.equal(problemsOf(routed([{ if: { host: 'a' }, backend: 'api' }], {}, { mode: 'tcp' })), [
    'frontends.web.rules: routing rules choose a backend per HTTP request; they need "mode": "http"',
  ]);
  assert.equal(problemsOf(routed([{ if: { host: 'a' }, backend: 'greeter' }], { greeter: { service: 'hello' } })), [
    'frontends.web.rules[0].backend: backend "greeter" runs the built-in service "hello", which speaks TCP; an HTTP frontend needs a backend with "servers", a "return", "service": "health" or "service": "stats"',
  ]);
});

test('return and health: HTTP only, one of servers/service/return, a sane response', () => {
  const ok = validateConfig(routed([{ if: { pathPrefix: '/h' }, backend: 'health' }], { health: { service: 'health' } }, { backend: 'gone' }));
  assert.equal(ok.problems, ['frontends.web.backend: no backend named "gone" (defined: app, api, health)']);
  const gone = { return: { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not here\n' } };
  const config = validateConfig(routed([], { gone }, { backend: 'gone' })).config!;
  assert.equal(config.backends.gone.return, { status: 404, headers: [['content-type', 'text/plain']], body: 'not here\n' });
  assert.equal(config.backends.gone.servers, []);
  assert.equal(validateConfig(routed([], { gone: { return: { status: 204 } } }, { backend: 'gone' })).config!.backends.gone.return, { status: 204, headers: [], body: '' });
  const tcp = { frontends: { t: { bind: ['127.0.0.1:81'], backend: 'gone' }, u: { bind: ['127.0.0.1:82'], backend: 'health' } }, backends: { gone, health: { service: 'health' } } };
  assert.equal(problemsOf(tcp), [
    'frontends.t.backend: backend "gone" has "return", which answers HTTP requests; frontend "t" needs "mode": "http" for it',
    'frontends.u.backend: backend "health" runs the built-in service "health", which answers HTTP requests; frontend "u" needs "mode": "http" for it',
  ]);
  assert.equal(
    problemsOf(routed([], { bad: { return: { status: 99, headers: { 'Content-Length': '3', 'x y': 'z', 'x-ok': 'a\nb' }, body: 1 }, servers: SERVERS.servers }, empty: { return: { status: 304, body: 'x' } } })),
    [
      'backends.bad.return.status: expected an HTTP status from 200 to 599, found 99',
      'backends.bad.return.headers.x-ok: expected a header value of printable ASCII characters, found "a\\nb"',
      'backends.bad.return.body: expected the body as a string, found 1',
      'backends.bad: has "servers" and "return"; a backend forwards to servers, runs a built-in service or returns a fixed response: one of them',
      'backends.bad.return.headers.Content-Length: is written by ferry itself (it frames the body and keeps or closes the connection); leave it out',
      'backends.bad.return.headers["x y"]: is not a header field name (letters, digits and !#$%&\'*+.^_`|~-)',
      'backends.empty.return.body: a 304 response has no body; leave "body" out or choose another status',
    ],
  );
});

test('balance uri and hdr(name): parsed, allowed behind HTTP frontends, refused behind TCP ones', () => {
  const balanced = (balance: string, mode = 'http'): ReturnType<typeof validateConfig> =>
    validateConfig({ frontends: { web: { mode, bind: ['127.0.0.1:8080'], backend: 'app' } }, backends: { app: { balance, ...SERVERS } } });
  assert.equal(balanced('uri').config!.backends.app.balance, { algorithm: 'uri', whole: false });
  assert.equal(balanced('uri(whole)').config!.backends.app.balance, { algorithm: 'uri', whole: true });
  assert.equal(balanced('hdr(X-User)').config!.backends.app.balance, { algorithm: 'hdr', header: 'x-user' });
  assert.equal(balanced('uri(path)').problems, ['backends.app.balance: "uri" takes no argument but "whole" (the path with its query string), found "uri(path)"']);
  assert.equal(balanced('hdr()').problems, ['backends.app.balance: hdr(name) takes a header field name such as "hdr(x-user)", found "hdr()"']);
  assert.equal(balanced('hdr(x-user)', 'tcp').problems, [
    'backends.app.balance: "hdr(x-user)" hashes HTTP requests, and frontend "web" (mode tcp) uses this backend; use the backend only from HTTP frontends, or balance by "source" to keep each client on one server',
  ]);
  // Routed to by a rule only: still an HTTP backend.
  const viaRule = validateConfig({
    frontends: { web: { mode: 'http', bind: ['127.0.0.1:8080'], backend: 'app', rules: [{ if: { pathPrefix: '/u/' }, backend: 'users' }] } },
    backends: { app: SERVERS, users: { balance: 'hdr(x-user)', ...SERVERS } },
  });
  assert.equal(viaRule.problems, []);
});

function request(target: string, fields: [string, string][] = []): RequestHead {
  const f = new Fields();
  for (const [name, value] of fields) f.add(name, value);
  return { method: 'GET', target, minor: 1, fields: f, framing: { kind: 'none' }, connection: [], keepAlive: true, upgrade: undefined };
}

test('router: first match wins; host without case, port or trailing dot; one label for a wildcard; all conditions of a rule', () => {
  const names = ['main', 'api', 'shop', 'static', 'canary', 'v2'];
  const backends = new Map(names.map((n) => [n, new Backend({ name: n, balance: { algorithm: 'roundrobin' }, retries: 0, redispatch: false, timeout: { connect: 1, server: 1, serverFin: 1, queue: 1 }, servers: [] }, 1)]));
  const rules: RuleConfig[] = [
    { if: { host: 'api.example' }, backend: 'api' },
    { if: { host: '*.shop.example' }, backend: 'shop' },
    { if: { pathPrefix: '/static/' }, backend: 'static' },
    { if: { header: { name: 'x-canary', value: '1' } }, backend: 'canary' },
    { if: { host: 'both.example', pathPrefix: '/v2/' }, backend: 'v2' },
  ];
  const router = new Router(rules, backends, backends.get('main')!);
  const to = (target: string, fields: [string, string][] = []): string => router.route(request(target, fields)).name;
  assert.is(to('/', [['Host', 'API.Example:8080']]), 'api');
  assert.is(to('/', [['Host', 'api.example.']]), 'api');
  assert.is(to('http://api.example/x', [['Host', 'other']]), 'api', 'an absolute-form target names the host');
  assert.is(to('/', [['Host', 'a.shop.example']]), 'shop');
  assert.is(to('/', [['Host', 'a.b.shop.example']]), 'main', 'a wildcard stands for one label');
  assert.is(to('/', [['Host', 'shop.example']]), 'main');
  assert.is(to('/static/app.js', [['Host', 'api.example']]), 'api', 'the first match wins');
  assert.is(to('/static/app.js', [['Host', 'x']]), 'static');
  assert.is(to('http://x/static/a', [['Host', 'x']]), 'static');
  assert.is(to('/staticx', [['Host', 'x']]), 'main');
  assert.is(to('/', [['Host', 'x'], ['X-Canary', '1']]), 'canary');
  assert.is(to('/', [['Host', 'x'], ['X-Canary', '2'], ['x-canary', '1']]), 'canary', 'any field of the name');
  assert.is(to('/', [['Host', 'x'], ['X-Canary', '2']]), 'main');
  assert.is(to('/v2/a', [['Host', 'both.example']]), 'v2');
  assert.is(to('/v1/a', [['Host', 'both.example']]), 'main', 'every condition of a rule must hold');
  assert.is(to('/v2/a', [['Host', 'x']]), 'main');
  assert.is(to('/', []), 'main', 'no Host (HTTP/1.0)');
  assert.is(hostOf(request('/', [['Host', '[::1]:8080']])), '[::1]');
  assert.is(hostOf(request('/', [['Host', '[::1]']])), '[::1]');
});

test('health: 200 while the generation serves, 503 once it stops or drains; replies fit the request', () => {
  const health = new HealthService();
  const req = request('/health', [['Host', 'x']]);
  assert.is(health.reply(req, { stopping: false }).status, 200);
  assert.is(health.reply(req, { stopping: true }).status, 503);
  const reply = new Reply(404, [['content-type', 'text/plain']], 'not here\n');
  assert.is(String(reply.bytes('GET', 1, true)), 'HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\nContent-Length: 9\r\n\r\nnot here\n');
  assert.is(String(reply.bytes('GET', 0, true)), 'HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\nContent-Length: 9\r\nConnection: keep-alive\r\n\r\nnot here\n');
  assert.is(String(reply.bytes('HEAD', 1, false)), 'HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\n');
  assert.is(String(new Reply(204, [], '').bytes('GET', 1, true)), 'HTTP/1.1 204 No Content\r\n\r\n');
});

test.run();
