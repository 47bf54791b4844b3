// Custom ajv keywords for values whose syntax a JSON schema cannot express well. Each keyword
// reports finished sentences in params.message, so the translator prints them unchanged.

import type { ErrorObject, FuncKeywordDefinition, SchemaValidateFunction } from 'ajv';
import { checkAccountSyntax } from './account';
import { parseNameserver, parseServerAddress, type Parsed } from './address';
import { BALANCE_EXAMPLE, parseBalance } from './balance';
import { parseBindList } from './bind';
import { parseStatusRange, STATUS_EXAMPLE } from './check';
import { MAX_TIMER_MS, parseDuration } from './duration';
import { expected, problem, type PathSegment, type Problem } from './problems';
import { checkSocketAccess } from './socket-access';
import { checkShardSpec } from './shards';

export const DURATION_EXAMPLE = 'a duration such as "250ms", "30s" or "5m"';
export const SERVER_ADDRESS_EXAMPLE = 'a server address such as "127.0.0.1:9000", "[::1]:9000" or "db.internal:5432"';
export const NAMESERVER_EXAMPLE = 'a DNS server address such as "127.0.0.53", "10.0.0.2:53" or "[::1]:5353"';

type Check = (data: unknown) => Problem[];

export const CUSTOM_KEYWORDS: FuncKeywordDefinition[] = [
  keyword('duration', checkDuration),
  keyword('positiveDuration', checkPositiveDuration),
  keyword('statusRange', (data) => (parseStatusRange(data) === undefined ? [problem([], expected(STATUS_EXAMPLE, data))] : [])),
  keyword('bindList', (data) => parseBindList(data).problems),
  keyword('serverAddress', (data) => checkText(data, SERVER_ADDRESS_EXAMPLE, parseServerAddress)),
  keyword('nameserver', (data) => checkText(data, NAMESERVER_EXAMPLE, parseNameserver)),
  keyword('balance', checkBalance),
  keyword('userAccount', (data) => checkAccountSyntax(data, [], 'user')),
  keyword('groupAccount', (data) => checkAccountSyntax(data, [], 'group')),
  keyword('socketAccess', checkSocketAccess),
  keyword('shards', (data) => checkShardSpec(data, [])),
];

function keyword(name: string, check: Check): FuncKeywordDefinition {
  const validate: SchemaValidateFunction = (_schema, data, _parentSchema, dataCxt) => {
    const base = dataCxt?.instancePath ?? '';
    const problems = check(data);
    validate.errors = problems.map((p): Partial<ErrorObject> => ({
      keyword: name,
      instancePath: base + toPointer(p.path),
      params: { message: p.message },
    }));
    return problems.length === 0;
  };
  return { keyword: name, schemaType: 'boolean', errors: true, validate };
}

function checkDuration(data: unknown): Problem[] {
  const ms = parseDuration(data);
  if (ms === undefined) return [problem([], expected(DURATION_EXAMPLE, data))];
  if (ms > MAX_TIMER_MS) {
    return [problem([], `${JSON.stringify(data)} is too long: timers cannot wait longer than ${MAX_TIMER_MS}ms (about 24.8 days)`)];
  }
  return [];
}

/** For periods, where 0 cannot mean "no timeout". */
function checkPositiveDuration(data: unknown): Problem[] {
  if (parseDuration(data) === 0) return [problem([], expected('a duration above 0 such as "500ms" or "2s"', data))];
  return checkDuration(data);
}

/** A string in one of the address syntaxes; its parser's reason follows the text it refuses. */
function checkText(data: unknown, example: string, parse: (text: string) => Parsed<unknown>): Problem[] {
  if (typeof data !== 'string') return [problem([], expected(example, data))];
  const parsed = parse(data);
  return parsed.ok ? [] : [problem([], `${JSON.stringify(data)}: ${parsed.error}`)];
}

function checkBalance(data: unknown): Problem[] {
  if (typeof data !== 'string') return [problem([], expected(BALANCE_EXAMPLE, data))];
  const parsed = parseBalance(data);
  return parsed.ok ? [] : [problem([], parsed.error)];
}

function toPointer(path: PathSegment[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
