// Loading puts the layers together, highest precedence first:
//   --set arguments > FERRY_* environment variables > the JSON file > the embedded default
// (the embedded default only when no file is given), then validates the merged result.

import { DEFAULT_CONFIG } from './defaults';
import { readConfigFile } from './file';
import { mergeLayers } from './layers';
import { assignmentsToObject, findOrigin, parseEnvironment, parseSetArguments, type Assignment } from './overrides';
import { formatProblem, type Problem } from './problems';
import type { Config } from './types';
import { checkConfig } from './validate';

export interface LoadOptions {
  /** Path of the JSON configuration file; without one the embedded default configuration is used. */
  file?: string;
  /** "path.to.key=value" strings, as given to --set. */
  overrides?: string[];
  /** Where FERRY_* variables are read from; process.env when absent. */
  env?: NodeJS.ProcessEnv;
}

export interface LoadResult {
  config?: Config;
  problems: string[];
  /** Names what was loaded, for the first line of a report: the file, or the embedded default. */
  source: string;
}

export class ConfigError extends Error {
  readonly problems: string[];
  readonly source: string;

  constructor(problems: string[], source: string) {
    super([`invalid configuration in ${source}:`, ...problems].join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
    this.source = source;
  }
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const result = loadConfigOrProblems(opts);
  if (!result.config) throw new ConfigError(result.problems, result.source);
  return result.config;
}

export function loadConfigOrProblems(opts: LoadOptions = {}): LoadResult {
  const source = opts.file === undefined ? 'the embedded default configuration' : JSON.stringify(opts.file);
  const sets = parseSetArguments(opts.overrides ?? []);
  const env = parseEnvironment(opts.env ?? process.env);
  const base = opts.file === undefined ? { data: DEFAULT_CONFIG, problems: [] } : readConfigFile(opts.file);
  const early = [...base.problems, ...env.problems, ...sets.problems];
  // Validating without the file, or with a broken override, would bury the real cause under
  // consequences ("frontends: required key is missing"), so these problems stop here.
  if (early.length > 0 || !base.data) return { problems: early, source };

  const merged = mergeLayers([assignmentsToObject(sets.assignments), assignmentsToObject(env.assignments), base.data]);
  const checked = checkConfig(merged);
  if (checked.config) return { config: checked.config, problems: [], source };
  return { problems: checked.problems.map((p) => withOrigin(p, sets.assignments, env.assignments)), source };
}

/** A problem in a value that an override supplied points at that override, not at the file. */
function withOrigin(p: Problem, ...layers: Assignment[][]): string {
  for (const assignments of layers) {
    const origin = findOrigin(assignments, p.path);
    if (origin) return `${formatProblem(p)} (set by ${origin.origin})`;
  }
  return formatProblem(p);
}
