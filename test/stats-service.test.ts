import { Script } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS } from '../src/config/head-limits';
import type { StatsWhat } from '../src/proto/ipc';
import { RequestHeadReader, type RequestHead } from '../src/http/request-head';
import { Reply } from '../src/http/reply';
import { StatsService } from '../src/services/stats';
import { STATS_PAGE } from '../src/services/stats-page';

function head(method: string, target: string): RequestHead {
  const reader = new RequestHeadReader(DEFAULT_LIMITS);
  assert.ok(reader.read(Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1')) > 0);
  return reader.head();
}

/** The service, and what it asked the master for. */
function service(answer: string | undefined): { stats: StatsService; asked: StatsWhat[] } {
  const asked: StatsWhat[] = [];
  return { stats: new StatsService((what) => (asked.push(what), Promise.resolve(answer))), asked };
}

async function reply(stats: StatsService, method: string, target: string): Promise<Reply> {
  return await stats.reply(head(method, target));
}

test('/metrics and /stats.json go to the master, by the end of the path (a rule may route a prefix); any other path is the page', async () => {
  const { stats, asked } = service('body');
  for (const target of ['/metrics', '/stats/metrics?x=1', '/stats.json', '/stats/stats.json']) assert.is((await reply(stats, 'GET', target)).status, 200, target);
  assert.equal(asked, ['metrics', 'metrics', 'json', 'json']);
  const metrics = await reply(stats, 'GET', '/metrics');
  assert.match(metrics.bytes('GET', 1, true).toString(), /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain; version=0\.0\.4; charset=utf-8\r\n[^]*\r\n\r\nbody$/);
  const page = await reply(stats, 'GET', '/stats/');
  assert.match(page.content.toString(), /^<!doctype html>/);
  assert.is(asked.length, 5, 'the page is served by the worker itself');
});

test('only GET and HEAD; 503 when the master does not answer', async () => {
  assert.is((await reply(service('x').stats, 'POST', '/metrics')).status, 405);
  assert.is((await reply(service(undefined).stats, 'GET', '/metrics')).status, 503);
  assert.is((await reply(service('x').stats, 'HEAD', '/stats.json')).status, 200);
});

test("the page's script parses, and it fetches nothing but its own stats.json", () => {
  const scripts = [...STATS_PAGE.matchAll(/<script>([^]*?)<\/script>/g)].map((m) => m[1]);
  assert.is(scripts.length, 1);
  assert.not.throws(() => new Script(scripts[0]));
  assert.not.match(STATS_PAGE, /https?:\/\//, 'no address outside ferry');
  assert.not.match(STATS_PAGE, /<(link|img|iframe)\b|\bsrc=/, 'nothing loaded besides the page');
});

test.run();
