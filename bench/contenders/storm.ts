// The reload-storm line-up, derived from --contenders like the http and udp ones: `ferry` is ferry
// with a frontend in the measured mode (http or tcp), reloaded by SIGHUP; `haproxy` is haproxy in the
// same mode in master-worker mode, reloaded through its master CLI. The pipe proxies cannot reload
// and are left out with a note. A ferry build without HTTP mode gets a row saying so in HTTP mode.

import type { ReloadableContender } from './contender';
import { workersOf, type FerrySettings } from './ferry';
import { ferryHttpUnavailable } from './ferry-http';
import { startFerryStorm } from './ferry-storm';
import { startHaproxyReloadable } from './haproxy';

export type StormMode = 'http' | 'tcp';

export interface StormEntry {
  readonly name: string;
  start(backendPort: number): Promise<ReloadableContender>;
}

export interface StormLineup {
  readonly entries: StormEntry[];
  /** Contenders that cannot run in this mode, with the reason their row shows. */
  readonly unavailable: Map<string, string>;
  readonly notes: string[];
}

/** `available` is the TCP line-up's verdict: a contender that cannot run at all is skipped here too. */
export function stormLineup(requested: readonly string[], available: readonly string[], ferry: FerrySettings, mode: StormMode): StormLineup {
  const entries: StormEntry[] = [];
  const unavailable = new Map<string, string>();
  const notes: string[] = [];
  for (const want of [...new Set(requested)]) {
    if (!available.includes(want)) continue;
    if (want === 'ferry') {
      const why = mode === 'http' ? ferryHttpUnavailable(ferry, 'http') : null;
      if (why === null) entries.push({ name: want, start: (port) => startFerryStorm(ferry, want, port, mode) });
      else unavailable.set(want, why);
    } else if (want === 'haproxy') {
      entries.push({ name: want, start: (port) => startHaproxyReloadable(want, port, mode, workersOf(ferry)) });
    } else {
      notes.push(`skipping ${want}: it cannot reload`);
    }
  }
  return { entries, unavailable, notes };
}
