import type { StatsWhat } from '../proto/ipc';
import { Reply } from '../http/reply';
import type { RequestHead } from '../http/request-head';
import type { HttpService } from './http-service-t';
import { STATS_PAGE } from './stats-page';

/** Asks the master for the exposition or the page's JSON; undefined: no answer in time. */
export type AskMaster = (what: StatsWhat) => Promise<string | undefined>;

/** Where no master can be asked (a stack in a layer test). */
export const noMaster: AskMaster = () => Promise.resolve(undefined);

const NO_STORE = ['Cache-Control', 'no-store'] as const;
const TYPES: Readonly<Record<StatsWhat, string>> = {
  // The version of the text format prom-client writes.
  metrics: 'text/plain; version=0.0.4; charset=utf-8',
  json: 'application/json',
};

/**
 * The built-in `stats` service: GET /metrics (Prometheus text), /stats.json (the page's data) and /
 * (the page itself, which refreshes from /stats.json). Paths are matched by their end, so that a
 * rule may route a prefix to it (`/stats/metrics`); any other path gets the page. The totals live in the master, which keeps
 * them across reloads: each request for them goes there over the workers' IPC channel.
 */
export class StatsService implements HttpService {
  readonly name = 'stats';
  private readonly page = new Reply(200, [['Content-Type', 'text/html; charset=utf-8'], NO_STORE, ['Content-Security-Policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"]], STATS_PAGE);
  private readonly onlyGet = new Reply(405, [['Content-Type', 'text/plain'], ['Allow', 'GET, HEAD'], NO_STORE], 'the stats service answers GET and HEAD only\n');
  private readonly unanswered = new Reply(503, [['Content-Type', 'text/plain'], NO_STORE], 'the master did not answer in time\n');

  constructor(private readonly ask: AskMaster) {}

  reply(req: RequestHead): Reply | Promise<Reply> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.onlyGet;
    const what = whatOf(req.target.split('?', 1)[0]);
    if (what === undefined) return this.page;
    return this.ask(what).then((body) => (body === undefined ? this.unanswered : new Reply(200, [['Content-Type', TYPES[what]], NO_STORE], body)));
  }
}

function whatOf(path: string): StatsWhat | undefined {
  if (path.endsWith('/metrics')) return 'metrics';
  return path.endsWith('/stats.json') ? 'json' : undefined;
}
