// The `balance` setting: an algorithm name, with an argument in parentheses where one takes it.

import type { Parsed } from './address';
import type { BalanceConfig } from './types';

export const BALANCE_EXAMPLE = 'one of "roundrobin", "leastconn", "source", "random" or "random(N)" (N draws, 1 to 16), or in HTTP mode "uri", "uri(whole)" or "hdr(name)"';
/** A header field name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DEFAULT_DRAWS = 2;
const MAX_DRAWS = 16;

export function parseBalance(text: string): Parsed<BalanceConfig> {
  switch (text) {
    case 'roundrobin':
    case 'leastconn':
    case 'source':
      return { ok: true, value: { algorithm: text } };
    case 'random':
      return { ok: true, value: { algorithm: 'random', draws: DEFAULT_DRAWS } };
    case 'uri':
    case 'uri(whole)':
      return { ok: true, value: { algorithm: 'uri', whole: text !== 'uri' } };
  }
  const call = /^(\w+)\((.*)\)$/.exec(text);
  const name = call?.[1] ?? text;
  if (name === 'random' && call !== null) return parseDraws(call[2]);
  if (name === 'hdr' && call !== null) return parseHeader(call[2]);
  if (name === 'uri') return { ok: false, error: `"uri" takes no argument but "whole" (the path with its query string), found ${JSON.stringify(text)}` };
  return { ok: false, error: `expected ${BALANCE_EXAMPLE}, found ${JSON.stringify(text)}` };
}

function parseDraws(arg: string): Parsed<BalanceConfig> {
  const draws = /^\d{1,2}$/.test(arg) ? Number(arg) : NaN;
  if (draws >= 1 && draws <= MAX_DRAWS) return { ok: true, value: { algorithm: 'random', draws } };
  return { ok: false, error: `random(N) takes a number of draws from 1 to ${MAX_DRAWS}, found ${JSON.stringify(`random(${arg})`)}` };
}

function parseHeader(arg: string): Parsed<BalanceConfig> {
  if (TOKEN.test(arg)) return { ok: true, value: { algorithm: 'hdr', header: arg.toLowerCase() } };
  return { ok: false, error: `hdr(name) takes a header field name such as "hdr(x-user)", found ${JSON.stringify(`hdr(${arg})`)}` };
}
