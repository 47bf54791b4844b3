// ferry in the http measurement: one group, one thread (--groups, --threads: more), a frontend in
// `"mode": "http"` (HTTP/1.1 keep-alive on both sides) — or, with
// --http-ferry-mode tcp, the same frontend as a byte relay, which any build
// can run, so the harness can be checked against a build without HTTP mode.
//
// A build without HTTP mode refuses the config. `ferry check` on it, before
// the rounds, turns that into a row that says so instead of a failed bench.

import { spawnSync } from 'node:child_process';
import { writeTempFile } from '../lib/temp';
import type { Contender } from './contender';
import { contenderOf, launch, proxyConfig, sizeOf, type FerrySettings } from './ferry';

export type FerryHttpMode = 'http' | 'tcp';

/** Why this ferry build cannot run the config, or null when `ferry check` accepts it. */
export function ferryHttpUnavailable(settings: FerrySettings, mode: FerryHttpMode): string | null {
  // Port 1 is never bound: --no-bind checks the config alone.
  const file = writeTempFile('ferry-check.json', proxyConfig(mode)(1, 1, settings.logLevel, sizeOf(settings)));
  const check = spawnSync(process.execPath, [settings.cli, 'check', '--no-bind', '-c', file], { encoding: 'utf8', timeout: 20_000 });
  if (check.status === 0) return null;
  const output = `${check.stderr}${check.stdout}`;
  if (mode === 'http' && /\.mode\b.*"http"/.test(output)) return 'no HTTP mode in this build';
  const problem = output.split('\n').find((line) => line.trim().startsWith('- ')) ?? output.trim();
  return `ferry check refused the ${mode} config: ${problem.trim() || `exit ${String(check.status ?? check.signal)}`}`;
}

export async function startFerryHttp(settings: FerrySettings, name: string, backendPort: number, mode: FerryHttpMode): Promise<Contender> {
  return contenderOf(name, await launch(settings, name, backendPort, proxyConfig(mode)));
}
