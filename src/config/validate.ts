// Validation in one pass that lists every problem: the schema (with defaults filled in), then the
// cross-value checks, and only when both are clean the conversion to the normalized Config.

import { normalize } from './normalize';
import { inDocumentOrder } from './order';
import { formatProblem, isRecord, problem, type Problem } from './problems';
import { schemaValidator } from './schema';
import { checkSemantics } from './semantic';
import { translateErrors } from './translate';
import type { Config } from './types';

export interface Validation {
  config?: Config;
  problems: string[];
}

export interface CheckedConfig {
  config?: Config;
  problems: Problem[];
}

export function validateConfig(raw: unknown): Validation {
  const checked = checkConfig(raw);
  return { ...(checked.config && { config: checked.config }), problems: checked.problems.map(formatProblem) };
}

/** Like validateConfig, but problems keep their key paths so that callers can say where a value came from. */
export function checkConfig(raw: unknown): CheckedConfig {
  const data = copyOf(raw);
  if (data === COPY_FAILED) return { problems: [problem([], 'expected plain JSON data (objects, arrays, strings, numbers, booleans)')] };
  const validate = schemaValidator();
  const problems = validate(data) ? [] : translateErrors(validate.errors ?? [], data);
  problems.push(...checkSemantics(data));
  if (problems.length > 0 || !isRecord(data)) return { problems: inDocumentOrder(uniqueProblems(problems), data) };
  return { config: normalize(data), problems: [] };
}

/** Some values fail several schema keywords at once; each place is reported with one sentence. */
function uniqueProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const line = formatProblem(p);
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
}

const COPY_FAILED = Symbol('copy failed');

/** ajv writes defaults into the object it validates; the caller's object must stay as it was. */
function copyOf(raw: unknown): unknown {
  try {
    return structuredClone(raw);
  } catch {
    return COPY_FAILED;
  }
}
