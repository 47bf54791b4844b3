// Builds the normalized Config from raw data that has already passed validation (with defaults
// filled in), so parsing cannot fail here; a failure would be a bug in the validator.
import { resolve } from 'node:path';
import { defaultMasterSocket } from '../control/path';
import { stdoutIsJournal } from '../os/journal';

import { serverTlsOf } from './server-tls';
import { parseNameserver, parseServerAddress, type Parsed } from './address';
import { parseBalance } from './balance';
import { parseBindList, toBindConfig, type ParsedBind } from './bind';
import { shardable, shardCount } from './shards';
import { checkOf } from './check';
import { httpFrontendOf, poolOf } from './http-options';
import { parseDuration } from './duration';
import { returnOf, rulesOf } from './rules';
import { runAsOf } from './run-as';
import { accessOf } from './socket-access';
import type { BackendConfig, Config, FrontendConfig, GlobalConfig, ResolveConfig, ServerConfig } from './types';

type Raw = Record<string, any>;

/** The short-header DCID length most QUIC servers choose. */
const QUIC_DCID_LENGTH = 8;

export function normalize(data: Raw): Config {
  const global = normalizeGlobal(data.global);
  return {
    global,
    frontends: mapEntries(data.frontends, (name, raw) => normalizeFrontend(name, raw, global)),
    backends: mapEntries(data.backends, normalizeBackend),
  };
}

function normalizeGlobal(raw: Raw): GlobalConfig {
  return {
    groups: raw.groups,
    threads: raw.threads,
    shards: raw.shards,
    maxconn: raw.maxconn,
    hardStopAfter: ms(raw.hardStopAfter),
    maxReloads: raw.maxReloads,
    masterSocket: resolve(raw.masterSocket ?? defaultMasterSocket()),
    masterSocketAccess: { mode: 0o600, ...accessOf(raw.masterSocketAccess ?? {}) },
    ...(raw.stateFile !== undefined && { stateFile: resolve(raw.stateFile) }),
    ...workersRunAs(raw),
    log: { level: raw.log.level, format: raw.log.format ?? (stdoutIsJournal() ? 'journal' : 'json'), access: raw.log.access },
  };
}

function workersRunAs(raw: Raw): Pick<GlobalConfig, 'runAs'> {
  const { runAs, problems } = runAsOf(raw);
  if (problems.length > 0) throw new Error(`validated global.user or global.group failed to resolve: ${problems[0].message}`);
  return runAs === undefined ? {} : { runAs };
}

function normalizeFrontend(name: string, raw: Raw, global: GlobalConfig): FrontendConfig {
  return {
    name,
    bind: parseBindList(raw.bind).binds.map((b) => toBindConfig(b, name, shardsOf(b, global))),
    mode: raw.mode,
    maxconn: raw.maxconn ?? global.maxconn,
    backlog: raw.backlog,
    timeout: { client: ms(raw.timeout.client), clientFin: ms(raw.timeout.clientFin), flow: ms(raw.timeout.flow), handshake: ms(raw.timeout.handshake), proxyHeader: ms(raw.timeout.proxyHeader ?? raw.timeout.client) },
    ...(raw.mode === 'http' && httpFrontendOf(raw)),
    maxFlows: raw.maxFlows,
    ...(raw.maxFlowRate !== undefined && { maxFlowRate: raw.maxFlowRate }),
    flowKey: raw.flowKey ?? 'address',
    quicDcidLength: raw.quicDcidLength ?? QUIC_DCID_LENGTH,
    backend: raw.backend,
    ...(raw.rules !== undefined && { rules: rulesOf(raw.rules) }),
  };
}

/** A bind's own shards, else global.shards where the bind can have shards. */
function shardsOf(bind: ParsedBind, global: GlobalConfig): number {
  const spec = bind.shards ?? (shardable(bind.address) ? global.shards : 1);
  return shardCount(spec, global.groups, global.threads);
}

function normalizeBackend(name: string, raw: Raw): BackendConfig {
  const timeout = raw.timeout;
  return {
    name,
    balance: validated(parseBalance(raw.balance), 'balance'),
    retries: raw.retries,
    redispatch: raw.redispatch,
    timeout: {
      connect: ms(timeout.connect),
      server: ms(timeout.server),
      // A server ferry has sent its FIN to is no longer in a tunnel: without a setting of its own, it gets the server timeout.
      serverFin: ms(timeout.serverFin ?? timeout.server),
      // As in HAProxy: a queue without its own timeout waits as long as a connect attempt may.
      queue: ms(timeout.queue ?? timeout.connect),
      ...(timeout.tunnel !== undefined && { tunnel: ms(timeout.tunnel) }),
    },
    servers: Object.entries((raw.servers ?? {}) as Raw).map(([server, s]) => normalizeServer(server, s, raw)),
    ...(raw.service !== undefined && { service: raw.service }),
    ...(raw.return !== undefined && { return: returnOf(raw.return) }),
    ...(raw.resolve !== undefined && { resolve: normalizeResolve(raw.resolve) }),
  };
}

/** An interval of 0 means none, as a timeout of 0 does. */
function normalizeResolve(raw: Raw): ResolveConfig {
  const interval = raw.interval === undefined ? 0 : ms(raw.interval);
  return {
    ...(interval > 0 && { interval }),
    ...(raw.nameservers !== undefined && { nameservers: (raw.nameservers as string[]).map((n) => validated(parseNameserver(n), 'nameserver')) }),
  };
}

/** Optional settings are left out when unset, so that an unchanged server compares equal across reloads. */
function normalizeServer(name: string, raw: Raw, backend: Raw): ServerConfig {
  const { host, port } = validated(parseServerAddress(raw.address), 'server address');
  const check = checkOf(backend.check, raw.check);
  const slowstart = ms(raw.slowstart ?? backend.slowstart ?? 0);
  const sendProxy = (raw.sendProxy ?? backend.sendProxy) as ServerConfig['sendProxy'];
  const tls = raw.tls ?? backend.tls;
  return {
    name,
    host,
    port,
    weight: raw.weight,
    ...(raw.maxconn !== undefined && { maxconn: raw.maxconn }),
    ...(check !== undefined && { check }),
    ...(raw.backup === true && { backup: true as const }),
    ...(slowstart > 0 && { slowstart }),
    ...(raw.pool !== undefined && { pool: poolOf(raw.pool) }),
    ...(sendProxy !== undefined && { sendProxy }),
    ...(tls !== undefined && { tls: serverTlsOf(tls, host) }),
  };
}

function validated<T>(parsed: Parsed<T>, what: string): T {
  if (!parsed.ok) throw new Error(`validated ${what} failed to parse: ${parsed.error}`);
  return parsed.value;
}

function ms(v: unknown): number {
  const parsed = parseDuration(v);
  if (parsed === undefined) throw new Error(`validated duration failed to parse: ${JSON.stringify(v)}`);
  return parsed;
}

function mapEntries<T>(map: Raw, fn: (name: string, raw: Raw) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(map).map(([name, raw]) => [name, fn(name, raw)]));
}
