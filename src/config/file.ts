// Reading the configuration file: JSON with comments (JSONC), as editors write it: // and /* */
// comments and trailing commas are allowed. nconf's file store treats a missing file as empty and
// reports JSON errors without a location, so the file is read here and handed to nconf as data.

import * as fs from 'node:fs';
import { createScanner, parse, ParseErrorCode, SyntaxKind, visit, type ParseError } from 'jsonc-parser';
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

const FORMAT = 'JSON, with // and /* */ comments and trailing commas allowed';

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

export function parseConfigText(text: string, file: string): FileContents {
  const name = `config file ${JSON.stringify(file)}`;
  const errors: ParseError[] = [];
  const data: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  // The parser recovers and goes on, so later errors are mostly echoes of the first: only the first is told.
  if (errors.length > 0) return { problems: [`${name} ${describeSyntaxError(text, errors[0])}`] };
  if (isRecord(data)) return { data, problems: [] };
  return { problems: [`${name}: expected a JSON object at the top level, found ${formatValue(data)}`] };
}

/** "is not valid JSON at line L, column C: what was expected, found what", on one line. */
function describeSyntaxError(text: string, error: ParseError): string {
  const start = firstToken(text);
  if (start.kind === SyntaxKind.EOF && error.error === ParseErrorCode.ValueExpected) {
    return 'is empty: expected a JSON object such as {"frontends": {...}}';
  }
  // A file that does not even open with "{" is in another format: say which one ferry reads.
  if (start.kind !== SyntaxKind.OpenBraceToken && start.kind !== SyntaxKind.EOF) {
    const like = lookalike(text);
    const what = like ? `looks like ${like}, but the configuration is` : 'is not JSON: the configuration is';
    return `${what} ${FORMAT}; at ${position(text, start.offset)} expected "{" to open it, found ${found(text, start.offset)}`;
  }
  return `is not valid JSON at ${position(text, error.offset)}: ${reason(text, error)}`;
}

function reason(text: string, error: ParseError): string {
  const at = found(text, error.offset);
  switch (error.error) {
    case ParseErrorCode.InvalidSymbol:
      return text[error.offset] === "'" ? `strings and keys are written in double quotes, found ${at}` : `unexpected ${at} (keys and strings are written in double quotes)`;
    case ParseErrorCode.InvalidNumberFormat:
    case ParseErrorCode.UnexpectedEndOfNumber:
      return `invalid number ${at}`;
    case ParseErrorCode.PropertyNameExpected:
      return `expected a key in double quotes, found ${at}`;
    case ParseErrorCode.ValueExpected:
      return `expected a value, found ${at}`;
    case ParseErrorCode.ColonExpected:
      return `expected ":" after the key, found ${at}`;
    case ParseErrorCode.CommaExpected:
      // A "}" where "]" belongs (or the reverse) leaves the list (or object) unclosed.
      return /^'[\]}]'$/.test(at) ? closeExpected(text, error, at) : `expected "," before ${at}`;
    case ParseErrorCode.CloseBraceExpected:
    case ParseErrorCode.CloseBracketExpected:
      return closeExpected(text, error, at);
    case ParseErrorCode.EndOfFileExpected:
      return `expected the end of the file after the top-level object, found ${at}`;
    case ParseErrorCode.InvalidCommentToken:
    case ParseErrorCode.UnexpectedEndOfComment:
      return 'a /* comment is not closed with */';
    case ParseErrorCode.UnexpectedEndOfString:
      return 'a string is not closed on its line (write a line break inside a string as \\n)';
    case ParseErrorCode.InvalidUnicode:
      return 'invalid \\u escape in a string (expected four hexadecimal digits, such as \\u00e9)';
    case ParseErrorCode.InvalidEscapeCharacter:
      return `invalid escape ${quoteToken(text.slice(error.offset, error.offset + error.length))} in a string (use \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)`;
    case ParseErrorCode.InvalidCharacter:
      return 'a tab or other control character inside a string (write it as \\t, \\n or \\uXXXX)';
    default:
      return `unexpected ${at}`;
  }
}

interface Container {
  kind: 'object' | 'list';
  offset: number;
}

/**
 * The object or list that the error leaves unclosed. The parser ends a container before it reports
 * the missing "}" or "]", so that is the one ended last at the error's offset; a stray closer of the
 * other kind ("," expected before it) belongs to the one still open.
 */
function unclosed(text: string, error: ParseError): Container | undefined {
  const open: Container[] = [];
  let ended: (Container & { end: number }) | undefined;
  let found: Container | undefined;
  const end = (offset: number): void => {
    const container = open.pop();
    if (container) ended = { ...container, end: offset };
  };
  visit(
    text,
    {
      onObjectBegin: (offset) => void open.push({ kind: 'object', offset }),
      onArrayBegin: (offset) => void open.push({ kind: 'list', offset }),
      onObjectEnd: end,
      onArrayEnd: end,
      onError: (_code, offset) => {
        if (found || offset !== error.offset) return;
        found = ended?.end === offset ? ended : open[open.length - 1];
      },
    },
    { allowTrailingComma: true, disallowComments: false },
  );
  return found;
}

function closeExpected(text: string, error: ParseError, at: string): string {
  const container = unclosed(text, error);
  if (!container) return `expected "," or the end of the object or list, found ${at}`;
  const closer = container.kind === 'object' ? '}' : ']';
  return `expected "," or "${closer}" to close the ${container.kind} opened at ${position(text, container.offset)}, found ${at}`;
}

function firstToken(text: string): { kind: SyntaxKind; offset: number } {
  const scanner = createScanner(text, true);
  const kind = scanner.scan();
  return { kind, offset: scanner.getTokenOffset() };
}

/** The token at `offset` as written, quoted, on one line. */
function found(text: string, offset: number): string {
  const scanner = createScanner(text, true);
  scanner.setPosition(offset);
  if (scanner.scan() === SyntaxKind.EOF) return 'the end of the file';
  return quoteToken(text.slice(scanner.getTokenOffset(), scanner.getTokenOffset() + scanner.getTokenLength()));
}

const MAX_TOKEN_CHARS = 40;

/** A string token keeps its double quotes; anything else is put in single ones, as V8 does. */
function quoteToken(raw: string): string {
  const short = raw.length <= MAX_TOKEN_CHARS ? raw : `${raw.slice(0, MAX_TOKEN_CHARS - 3)}...`;
  const oneLine = short.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, escape);
  return /^["']/.test(oneLine) ? oneLine : `'${oneLine}'`;
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escape(c: string): string {
  return ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** The first line that is neither blank nor a comment says what other format a file is in. */
function lookalike(text: string): string | undefined {
  const first = text.split(/\r?\n/).find((line) => !/^\s*(#.*|\/\/.*)?$/.test(line)) ?? '';
  if (/^(---|%YAML)|^\s*-\s|^\s*["']?[A-Za-z_][\w.-]*["']?\s*:(\s|$)/.test(first)) return 'YAML';
  if (/^\s*\[[\w."-]+\]\s*$|^\s*[A-Za-z_][\w.-]*\s*=/.test(first)) return 'TOML or INI';
  if (/^\s*</.test(first)) return 'XML';
  return undefined;
}

/** "line L, column C", both from 1, columns counted in characters. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  return `line ${line}, column ${[...before.slice(lineStart)].length + 1}`;
}
