// ferry as a library: what `require('ferry')` / `import ... from 'ferry'` gives (package.json
// "exports"). The CLI is the `ferry` command (dist/bin/ferry.js); this entry only reads and checks
// configurations, so that a deploy script, an editor plug-in or a test can validate one in-process.
// Importing it has no side effect: no socket, no signal handler, no native module, no exit.

import { loadConfigOrProblems, type LoadOptions } from './config';
import type { Config } from './config';
import { loadCertificates } from './conn/tls/load';

export { ConfigError, DEFAULT_CONFIG, loadConfig, loadConfigOrProblems, parseDuration, validateConfig } from './config';
export type { LoadOptions, LoadResult, Validation } from './config';
export type * from './config/types';
export { version } from './lib/version';

export interface CheckResult {
  /** The normalized configuration, with the TLS certificates it names read; absent when there are problems. */
  config?: Config;
  /** Every problem found, one sentence each, as `ferry check` prints them. */
  problems: string[];
}

/**
 * Reads and checks a configuration as `ferry check --no-bind` begins: the file (or the embedded
 * default without one), FERRY_* variables from `options.env` (process.env when absent) and --set
 * overrides, then the certificates of its TLS binds. It throws nothing for a bad configuration, and
 * neither resolves server names, checks global.user nor binds.
 */
export function checkConfig(options: LoadOptions = {}): CheckResult {
  const loaded = loadConfigOrProblems(options);
  if (loaded.config === undefined) return { problems: loaded.problems };
  return loadCertificates(loaded.config);
}
