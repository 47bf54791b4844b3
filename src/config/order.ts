// Problems are found in two passes (schema, then cross-value checks), each in its own order.
// Sorting them by where they sit in the document keeps everything about one frontend together.

import { isRecord, type Problem } from './problems';

export function inDocumentOrder(problems: Problem[], data: unknown): Problem[] {
  const ranked = problems.map((p, i) => ({ p, rank: [...rank(p, data), i] }));
  ranked.sort((a, b) => compare(a.rank, b.rank));
  return ranked.map((r) => r.p);
}

/** Position of the section, then of the entry in that section (a frontend, a backend...). */
function rank(p: Problem, data: unknown): number[] {
  const [section, entry] = p.path;
  const sectionValue = isRecord(data) ? data[String(section)] : undefined;
  return [indexIn(data, section), entry === undefined ? -1 : indexIn(sectionValue, entry)];
}

function indexIn(container: unknown, key: unknown): number {
  if (key === undefined) return -1;
  const keys = isRecord(container) ? Object.keys(container) : [];
  const index = keys.indexOf(String(key));
  return index < 0 ? keys.length : index;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
