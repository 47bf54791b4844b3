// The human-readable part of the report: one table per measurement, then the
// floors as PASS/FAIL lines.

import { median, variation } from '../lib/stats';
import type { Comparison } from './compare';
import { medians, mediansOf, ratios, ratiosOf } from './compare';
import type { FloorResult } from './floors';
import type { Section } from './section';
import { formatTable } from './table';

function digits(section: Section): number {
  if (section.digits !== undefined) return section.digits;
  return section.unit === 'req/s' || section.unit === 'dgram/s' ? 0 : 1;
}

function ratioCell(values: Record<string, number>, subject: string, name: string): string {
  const value = values[`${subject}/${name}`];
  return name === subject ? '-' : value === undefined ? 'n/a' : value.toFixed(3);
}

/**
 * Proxy CPU per unit of work (rate, bulk, udp, http), and the share of it spent outside the kernel:
 * the system calls cost about the same in every proxy, so that share is where they differ.
 */
function costColumns(section: Section, subject: string): { header: string[]; cells: (name: string) => string[] } {
  if (section.cost.size === 0) return { header: [], cells: () => [] };
  const m = mediansOf(section.cost);
  const r = ratiosOf(section.cost, subject);
  const user = mediansOf(section.userCost);
  const metered = Object.values(user).some((v) => Number.isFinite(v));
  return {
    header: [section.costUnit, ...(metered ? ['user'] : []), ...(section.compare ? [`${subject}/x cpu`] : [])],
    cells: (name) => [
      (m[name] ?? Number.NaN).toFixed(1),
      ...(metered ? [Number.isFinite(user[name]) ? `${((user[name]! / m[name]!) * 100).toFixed(0)}%` : 'n/a'] : []),
      ...(section.compare ? [ratioCell(r, subject, name)] : []),
    ],
  };
}

/** Columns of counts summed over rounds, headed by their key in words (failedRequests: "failed requests"). */
function totalColumns(section: Section): { header: string[]; cells: (name: string) => string[] } {
  const columns = [...section.totals];
  return {
    header: columns.map(([key]) => key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)),
    cells: (name) => columns.map(([, byName]) => String(byName.get(name) ?? 0)),
  };
}

/** Other per-round figures (reload-storm: steady and storm req/s), each by its median. */
function figureColumns(section: Section): { header: string[]; cells: (name: string) => string[] } {
  const columns = [...section.figures];
  return {
    header: columns.map(([column]) => `median ${column}`),
    cells: (name) => columns.map(([, figure]) => median(figure.values.get(name) ?? []).toFixed(figure.digits)),
  };
}

function noiseLines(section: Section): string[] {
  if (section.noise.length === 0) return [];
  const pct = (share: number): string => `${(share * 100).toFixed(0)}%`;
  const repeated = section.retried === 0 ? '' : `, ${section.retried} noisy measurement(s) repeated`;
  return [`  CPU taken by others (other processes + hypervisor steal): median ${pct(median(section.noise))}, max ${pct(Math.max(...section.noise))}${repeated}`];
}

function sectionText(section: Section, comparison: Comparison): string {
  const d = digits(section);
  const m = medians(section);
  const r = ratios(section, comparison.subject);
  const subject = comparison.subject ?? '';
  const cost = costColumns(section, subject);
  const totals = totalColumns(section);
  const figures = figureColumns(section);
  const rows = [...section.samples].map(([name, values]) => [
    name,
    m[name]!.toFixed(d),
    Math.min(...values).toFixed(d),
    Math.max(...values).toFixed(d),
    `${(variation(values) * 100).toFixed(1)}%`,
    String(values.length),
    ...(section.compare ? [ratioCell(r, subject, name)] : []),
    ...figures.cells(name),
    ...totals.cells(name),
    ...cost.cells(name),
  ]);
  const header = ['contender', `median ${section.unit}`, 'min', 'max', 'cv', 'rounds', ...(section.compare ? [`${subject}/x`] : []), ...figures.header, ...totals.header, ...cost.header];
  const missing = [...section.unavailable].map(([name, why]) => `  ${name}: ${why}`);
  const better = section.better === 'higher' ? 'higher is better' : 'lower is better';
  const notes = section.notes.map((note) => `  note: ${note}`);
  return [`${section.title} — ${better}`, formatTable(header, rows), ...missing, ...noiseLines(section), ...notes].join('\n');
}

function floorLine(floor: FloorResult): string {
  const verdict = floor.pass === null ? 'SKIP' : floor.pass ? 'PASS' : 'FAIL';
  const value = floor.value === null ? 'n/a' : floor.of === 'total' ? String(floor.value) : floor.value.toFixed(3);
  const caveat = floor.caveat === null ? '' : ` — ${floor.caveat}`;
  return `${verdict}  ${floor.key.padEnd(15)} ${floor.pair} = ${value} (needs ${floor.rule})${caveat}`;
}

function isFerry(name: string): boolean {
  return name.split('#')[0] === 'ferry';
}

/**
 * No floor for reloads (haproxy is no baseline for a handover it does not
 * do), but a request ferry loses while reloading is a bug worth shouting.
 */
function reloadLines(sections: readonly Section[]): string[] {
  const failed = sections.find((s) => s.key === 'reload')?.totals.get('failedRequests');
  if (failed === undefined) return [];
  const lines = [`reload: ${[...failed].map(([name, n]) => `${name} failed ${n} requests`).join(', ')}`];
  for (const [name, n] of failed) {
    if (isFerry(name) && n > 0) lines.push(`WARN  reload: ${name} failed ${n} requests while reloading; reloads are meant to lose none`);
  }
  return lines;
}

export function printReport(sections: readonly Section[], comparison: Comparison, floors: readonly FloorResult[]): void {
  const blocks = sections.map((section) => sectionText(section, comparison));
  console.log(`\n${blocks.join('\n\n')}\n`);
  const verdicts = [...floors.map(floorLine), ...reloadLines(sections)];
  if (verdicts.length > 0) console.log(`${verdicts.join('\n')}\n`);
}
