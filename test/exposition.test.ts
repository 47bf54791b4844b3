import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exposition, type ScrapeInput } from '../master/exposition';
import { Traffic } from '../src/lib/traffic';
import { checkWithPromtool, parseExposition, PROMTOOL, total } from './helpers/metrics';

// Configuration names cannot hold a quote or a backslash (NAME_PATTERN): the escaping is checked
// here, on the exposition itself, with names no configuration can give.
const ODD = 'we"b\\x';

function input(): ScrapeInput {
  const traffic = new Traffic();
  traffic.request(204, 100, 50, 0, 3, 7);
  traffic.request(503, 100, 50, 1, -1, 12_000);
  const frontend = { name: ODD, current: 1, total: 2, requests: 2, traffic: traffic.counters() };
  const failing = new Traffic();
  failing.request(503, 100, 50, 1, -1, 12_000);
  failing.ended('SC');
  const backend = { name: ODD, current: 0, total: 2, queue: { current: 0, max: 1, total: 1, timedOut: 0 }, servers: [], traffic: failing.counters() };
  const totals = { frontends: [frontend], backends: [backend] };
  const handedOver = { session: 3, flow: 1 };
  const process = { generation: 4, startedAtS: 1, reloads: 3, failedReloads: 1, lastReloadS: 2, lastReloadOk: false, handedOver, hardStops: 0, workerRestarts: 1, openFds: 20 };
  return { counters: totals, now: totals, servers: [], process, workers: [] };
}

test('a label value with a quote and a backslash is escaped, and promtool reads the whole exposition', async () => {
  const text = await exposition(input());
  const line = text.split('\n').find((l) => l.startsWith('ferry_frontend_http_requests_total{'));
  assert.is(line, 'ferry_frontend_http_requests_total{frontend="we\\"b\\\\x"} 2');
  if (PROMTOOL !== undefined) assert.is(checkWithPromtool(text), undefined);
  else console.log("exposition.test: promtool is missing (.ci/run installs Debian's prometheus package): the exposition was not checked by it");
});

test('every family has HELP and TYPE and the ferry_ prefix; histograms have cumulative buckets in seconds up to +Inf', async () => {
  const text = await exposition(input());
  const scrape = parseExposition(text);
  const names = [...scrape.types.keys()];
  assert.ok(names.length >= 20, `families: ${names.length}`);
  for (const name of names) {
    assert.ok(name.startsWith('ferry_'), name);
    assert.ok(text.includes(`# HELP ${name} `), `HELP of ${name}`);
  }
  const buckets = [...scrape.samples].filter(([k]) => k.startsWith('ferry_frontend_http_total_time_seconds_bucket{'));
  assert.is(buckets.length, 12);
  assert.equal(buckets.map(([, v]) => v), [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2], 'cumulative: 7 ms in the 10 ms bucket, 12 s only in +Inf');
  assert.ok(buckets[11][0].includes('le="+Inf"'));
  assert.is(total(scrape, 'ferry_frontend_http_total_time_seconds_sum'), 12.007);
  assert.is(total(scrape, 'ferry_frontend_http_response_time_seconds_count'), 1, 'a request without a response has no response time');
  assert.is(total(scrape, 'ferry_frontend_http_responses_total', 'code="5xx"'), 1);
  assert.is(total(scrape, 'ferry_frontend_retries_total'), 1);
  assert.is(total(scrape, 'ferry_last_reload_success'), 0);
  assert.is(total(scrape, 'ferry_handed_over_total', 'kind="flow"'), 1);
  assert.is(total(scrape, 'ferry_backend_terminations_total', 'termination="SC"'), 1);
});

test.run();
