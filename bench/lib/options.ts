// Every knob can come from argv (`npm run bench -- --rounds 5`) or from the
// environment (BENCH_ROUNDS=5), so CI and humans can both drive it.

import path from 'node:path';
import { ferryCli } from './paths';
import type { FerryHttpMode } from '../contenders/ferry-http';
import type { HttpLoadChoice } from '../load/choose-http';
import type { StormMode } from '../contenders/storm';
import type { RoundPolicy } from './rounds';

export type Measurement = 'rate' | 'bulk' | 'memory' | 'reload' | 'udp' | 'http' | 'memory-http' | 'reload-storm' | 'reload-soak' | 'shards' | 'scale';
export type LoadChoice = 'auto' | 'wrk' | 'autocannon';

export interface Options {
  rounds: number;
  memoryRounds: number;
  reloadRounds: number;
  /** Rounds of the reload-storm measurement, per mode. */
  stormRounds: number;
  /** The frontend modes reload-storm measures. */
  stormModes: StormMode[];
  /** Reloads back to back in the reload-soak measurement. */
  soakReloads: number;
  durationS: number;
  only: Measurement[];
  contenders: string[];
  connections: number;
  /** Concurrent client flows in the udp measurement. */
  udpFlows: number;
  /** Requests in flight per connection in the http measurement (1: no pipelining). */
  httpDepth: number;
  httpLoad: HttpLoadChoice;
  httpFerryMode: FerryHttpMode;
  bulkMb: number;
  tunnels: number;
  batch: number;
  load: LoadChoice;
  maxNoise: number;
  retries: number;
  pin: boolean;
  ferryCli: string;
  /** The `ferry-base` contender's build, for A/B runs of two ferry builds; '' when not given. */
  ferryBase: string;
  ferryLog: string;
  strict: boolean;
  /** ferry's thread groups (worker processes) and threads per group; haproxy runs groups x threads threads. */
  groups: number;
  threads: number;
}

const MEASUREMENTS: readonly Measurement[] = ['rate', 'bulk', 'memory', 'reload', 'udp', 'http', 'memory-http', 'reload-storm', 'reload-soak', 'shards', 'scale'];
// reload-storm takes about 10 minutes on its own, reload-soak, shards, scale and memory-http a few: only when asked for (--only).
const DEFAULT_MEASUREMENTS: readonly Measurement[] = ['rate', 'bulk', 'memory', 'reload', 'udp', 'http'];

const DEFAULTS: Record<string, string> = {
  rounds: '5',
  'memory-rounds': '3',
  'reload-rounds': '3',
  'storm-rounds': '5',
  'storm-modes': 'http,tcp',
  'soak-reloads': '1000',
  duration: '3',
  only: DEFAULT_MEASUREMENTS.join(','),
  contenders: 'ferry,pipe,pipe-nagle,haproxy',
  connections: '50',
  'udp-flows': '16',
  'http-depth': '1',
  'http-load': 'auto',
  'http-ferry-mode': 'http',
  'bulk-mb': '256',
  tunnels: '5000',
  batch: '500',
  load: 'auto',
  'max-noise': '15',
  retries: '3',
  pin: 'on',
  'ferry-cli': ferryCli,
  'ferry-base': '',
  'ferry-log': 'warn',
  strict: 'false',
  groups: '1',
  threads: '1',
};

export const USAGE = `usage: node dist/bench/run.js [--rounds N] [--memory-rounds N] [--reload-rounds N] [--duration S]
       [--only rate|bulk|memory|reload|udp|http|memory-http|reload-storm|reload-soak|shards|scale[,..]] [--storm-rounds N] [--storm-modes http,tcp]
       [--soak-reloads N]
       [--contenders ferry,pipe,pipe-nagle,haproxy] [--connections N] [--udp-flows N] [--bulk-mb N]
       [--http-depth N] [--http-load auto|wrk|raw] [--http-ferry-mode http|tcp]
       [--tunnels N] [--batch N] [--load auto|wrk|autocannon]
       [--max-noise PERCENT] [--retries N] [--pin on|off]
       [--ferry-cli PATH] [--ferry-base PATH] [--ferry-log warn|info] [--strict] [--groups N] [--threads N]
each flag may also be set as BENCH_<NAME> in the environment (e.g. BENCH_ROUNDS=5)`;

function envName(flag: string): string {
  return `BENCH_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function readArgv(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null || !(match[1]! in DEFAULTS)) throw new Error(`unknown argument ${arg}\n${USAGE}`);
    const flag = match[1]!;
    if (match[2] !== undefined) values.set(flag, match[2]);
    else if (flag === 'strict') values.set(flag, 'true');
    else if (i + 1 < argv.length) values.set(flag, argv[++i]!);
    else throw new Error(`--${flag} needs a value`);
  }
  return values;
}

function positive(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} must be a positive number, got ${text}`);
  return value;
}

function percent(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 100) throw new Error(`--max-noise must be 0..100, got ${text}`);
  return value / 100;
}

function count(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${flag} must be a whole number >= 0, got ${text}`);
  return value;
}

function onOff(flag: string, text: string): boolean {
  if (text === 'on' || text === 'true' || text === '1') return true;
  if (text === 'off' || text === 'false' || text === '0') return false;
  throw new Error(`--${flag} must be on or off, got ${text}`);
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function measurements(text: string): Measurement[] {
  return list(text).map((name) => {
    if (!(MEASUREMENTS as readonly string[]).includes(name)) throw new Error(`--only: unknown measurement ${name}`);
    return name as Measurement;
  });
}

function stormModes(text: string): StormMode[] {
  const modes = list(text).map((mode) => {
    if (mode !== 'http' && mode !== 'tcp') throw new Error(`--storm-modes: unknown mode ${mode} (http, tcp)`);
    return mode;
  });
  if (modes.length === 0) throw new Error('--storm-modes needs http, tcp or both');
  return [...new Set(modes)];
}

function httpLoadChoice(text: string): HttpLoadChoice {
  if (text === 'auto' || text === 'wrk' || text === 'raw') return text;
  throw new Error(`--http-load must be auto, wrk or raw, got ${text}`);
}

function ferryMode(text: string): FerryHttpMode {
  if (text === 'http' || text === 'tcp') return text;
  throw new Error(`--http-ferry-mode must be http or tcp, got ${text}`);
}

function loadChoice(text: string): LoadChoice {
  if (text === 'auto' || text === 'wrk' || text === 'autocannon') return text;
  throw new Error(`--load must be auto, wrk or autocannon, got ${text}`);
}

// Each tunnel holds two fds in the proxy and two in the holder process, and
// haproxy is configured for 9,000 connections, under a 20,000 fd limit.
const MAX_TUNNELS = 9000;

function tunnels(text: string): number {
  const value = Math.round(positive('tunnels', text));
  if (value > MAX_TUNNELS) throw new Error(`--tunnels must be at most ${MAX_TUNNELS}, got ${text}`);
  return value;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const fromArgv = readArgv(argv);
  const get = (flag: string): string => fromArgv.get(flag) ?? env[envName(flag)] ?? DEFAULTS[flag]!;
  return {
    rounds: Math.round(positive('rounds', get('rounds'))),
    memoryRounds: Math.round(positive('memory-rounds', get('memory-rounds'))),
    reloadRounds: Math.round(positive('reload-rounds', get('reload-rounds'))),
    stormRounds: Math.round(positive('storm-rounds', get('storm-rounds'))),
    stormModes: stormModes(get('storm-modes')),
    soakReloads: Math.round(positive('soak-reloads', get('soak-reloads'))),
    durationS: positive('duration', get('duration')),
    only: measurements(get('only')),
    contenders: list(get('contenders')),
    connections: Math.round(positive('connections', get('connections'))),
    udpFlows: Math.round(positive('udp-flows', get('udp-flows'))),
    httpDepth: Math.round(positive('http-depth', get('http-depth'))),
    httpLoad: httpLoadChoice(get('http-load')),
    httpFerryMode: ferryMode(get('http-ferry-mode')),
    bulkMb: positive('bulk-mb', get('bulk-mb')),
    tunnels: tunnels(get('tunnels')),
    batch: Math.round(positive('batch', get('batch'))),
    load: loadChoice(get('load')),
    maxNoise: percent(get('max-noise')),
    retries: count('retries', get('retries')),
    pin: onOff('pin', get('pin')),
    ferryCli: path.resolve(get('ferry-cli')),
    ferryBase: get('ferry-base') === '' ? '' : path.resolve(get('ferry-base')),
    ferryLog: get('ferry-log'),
    strict: get('strict') === 'true' || get('strict') === '1',
    groups: Math.round(positive('groups', get('groups'))),
    threads: Math.round(positive('threads', get('threads'))),
  };
}

export function roundPolicy(options: Options): RoundPolicy {
  return { rounds: options.rounds, maxNoise: options.maxNoise, retries: options.retries };
}
