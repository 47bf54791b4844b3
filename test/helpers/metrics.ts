import { spawnSync } from 'node:child_process';
import { get } from 'node:http';

/** One scrape: each sample line's value by its name and labels as written, and each family's type. */
export interface Scrape {
  text: string;
  samples: Map<string, number>;
  types: Map<string, string>;
}

/** GETs `path` from 127.0.0.1:`port`: the status, content type and body. */
export function fetchText(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

export async function scrape(port: number, path = '/metrics'): Promise<Scrape> {
  const res = await fetchText(port, path);
  if (res.status !== 200) throw new Error(`GET ${path}: status ${res.status}: ${res.body}`);
  return parseExposition(res.body);
}

/**
 * Reads the sample lines of the text format: enough to compare values (the format itself is
 * checked by promtool, see checkWithPromtool).
 */
export function parseExposition(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1], type[2]);
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { text, samples, types };
}

/** The family a sample line belongs to, its type, and whether it may only grow (counters, histogram series). */
export function growsOnly(scrape: Scrape, key: string): boolean {
  const name = key.split('{', 1)[0];
  if (scrape.types.get(name) === 'counter') return true;
  const base = name.replace(/_(bucket|count|sum)$/, '');
  return base !== name && scrape.types.get(base) === 'histogram';
}

/** Every sample that may only grow and is in `before` is in `after`, not lower: the offending ones. */
export function decreases(before: Scrape, after: Scrape): string[] {
  const bad: string[] = [];
  for (const [key, value] of before.samples) {
    if (!growsOnly(before, key)) continue;
    const now = after.samples.get(key);
    if (now === undefined || now < value) bad.push(`${key}: ${value} -> ${now ?? 'gone'}`);
  }
  return bad;
}

/** The sum of every sample of `name` whose labels include all of `labels` (as written, e.g. 'frontend="web"'). */
export function total(scrape: Scrape, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [key, value] of scrape.samples) {
    if (key.split('{', 1)[0] !== name) continue;
    if (labels.every((l) => key.includes(l))) sum += value;
  }
  return sum;
}

/** promtool (from Debian's prometheus package, installed by .ci/run), or undefined where it is missing. */
export const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => spawnSync(p, ['--version']).status === 0);

/** promtool's verdict on an exposition: undefined when it is valid, else what promtool says. */
export function checkWithPromtool(text: string): string | undefined {
  const run = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return run.status === 0 ? undefined : `promtool exit ${run.status}: ${run.stdout}${run.stderr}`;
}
