// Reading the JSON configuration file. nconf's file store treats a missing file as empty and
// reports JSON errors without a location, so the file is read here and handed to nconf as data.

import * as fs from 'node:fs';
import { formatValue, isRecord } from './problems';

export interface FileContents {
  data?: Record<string, unknown>;
  problems: string[];
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file (pass -c with an existing JSON file)',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory, not a file',
};

export function readConfigFile(file: string): FileContents {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const reason = READ_ERRORS[code] ?? (err as Error).message;
    return { problems: [`cannot read config file ${JSON.stringify(file)}: ${reason}`] };
  }
  return parseConfigText(text.replace(/^\uFEFF/, ''), file);
}

function parseConfigText(text: string, file: string): FileContents {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { problems: [`config file ${JSON.stringify(file)} is not valid JSON: ${describeSyntaxError(text, err as Error)}`] };
  }
  if (isRecord(data)) return { data, problems: [] };
  return { problems: [`config file ${JSON.stringify(file)}: expected a JSON object at the top level, found ${formatValue(data)}`] };
}

/** V8's message without its quoted excerpt and raw offset, plus the line and column of the error. */
export function describeSyntaxError(text: string, err: Error): string {
  const reason = err.message
    .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')
    .replace(/( in JSON)? at position \d+.*$/s, '')
    .replace(/ of JSON input$/, ' of file');
  const { line, column } = lineAndColumn(text, errorOffset(text, err));
  return `${reason} at line ${line}, column ${column}`;
}

/**
 * Some V8 messages carry no position ("Unexpected token '}', ... is not valid JSON"). Every prefix
 * that ends before the error fails only for being incomplete, so the offset is found by bisecting
 * on prefixes.
 */
function errorOffset(text: string, err: Error): number {
  const reported = positionOf(err.message);
  if (reported !== undefined) return reported;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (failsBeforeEnd(text.slice(0, mid + 1))) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function failsBeforeEnd(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (err) {
    const message = (err as Error).message;
    if (/Unexpected end of JSON input/.test(message)) return false;
    const position = positionOf(message);
    return position === undefined || position < prefix.length;
  }
}

function positionOf(message: string): number | undefined {
  const match = / at position (\d+)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}
