// The `balance` setting: an algorithm name, with an argument in parentheses where one takes it.

import type { Parsed } from './address';
import type { BalanceConfig } from './types';

export const BALANCE_EXAMPLE = 'one of "roundrobin", "leastconn", "source", "random" or "random(N)" (N draws, 1 to 16)';
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
  }
  const call = /^(\w+)\((.*)\)$/.exec(text);
  const name = call?.[1] ?? text;
  if (name === 'uri' || name === 'hdr') {
    return { ok: false, error: `"${text}" hashes HTTP requests and needs HTTP mode, which ferry does not have yet ("source" keeps each client on one server)` };
  }
  if (name === 'random' && call !== null) return parseDraws(call[2]);
  return { ok: false, error: `expected ${BALANCE_EXAMPLE}, found ${JSON.stringify(text)}` };
}

function parseDraws(arg: string): Parsed<BalanceConfig> {
  const draws = /^\d{1,2}$/.test(arg) ? Number(arg) : NaN;
  if (draws >= 1 && draws <= MAX_DRAWS) return { ok: true, value: { algorithm: 'random', draws } };
  return { ok: false, error: `random(N) takes a number of draws from 1 to ${MAX_DRAWS}, found ${JSON.stringify(`random(${arg})`)}` };
}
