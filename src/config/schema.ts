// The shape of the raw JSON configuration. Every node carries a "description" phrased to complete
// "expected ...", which is how schema errors become readable sentences (see translate.ts).

import Ajv, { type SchemaObject, type ValidateFunction } from 'ajv';
import { accountExample } from './account';
import { BALANCE_EXAMPLE } from './balance';
import { STATUS_EXAMPLE } from './check';
import { CONCURRENT_STREAMS_RANGE, HEAD_SIZE_RANGE } from './http-options';
import { RETURN_SCHEMA, RULES_SCHEMA } from './rules';
import { SHARDS_EXAMPLE } from './shards';
import { CUSTOM_KEYWORDS, DURATION_EXAMPLE, NAMESERVER_EXAMPLE, SERVER_ADDRESS_EXAMPLE } from './keywords';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'text', 'journal'] as const;
export const SERVICES = ['echo', 'hello', 'health', 'stats'] as const;
export const MODES = ['tcp', 'udp', 'http'] as const;
export const FLOW_KEYS = ['address', 'quic-dcid', 'none'] as const;
export const CHECK_TYPES = ['tcp', 'http'] as const;
export const PROXY_VERSIONS = ['v1', 'v2'] as const;
export const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

const MAX_MAXCONN = 1_000_000;

function integer(min: number, max: number, dflt?: number): SchemaObject {
  return { type: 'integer', minimum: min, maximum: max, description: `an integer from ${min} to ${max}`, ...withDefault(dflt) };
}

function duration(dflt?: string): SchemaObject {
  return { duration: true, description: DURATION_EXAMPLE, ...withDefault(dflt) };
}

function oneOf(values: readonly string[], dflt?: string, note = ''): SchemaObject {
  const listed = values.map((v) => JSON.stringify(v)).join(', ');
  const description = values.length === 1 ? `${listed}${note}` : `one of ${listed}`;
  return { type: 'string', enum: [...values], description, ...withDefault(dflt) };
}

function section(properties: Record<string, SchemaObject>, required: string[] = []): SchemaObject {
  return {
    type: 'object',
    properties,
    required,
    additionalProperties: false,
    description: `an object with the keys ${Object.keys(properties).join(', ')}`,
  };
}

/** Defaulting an absent section to {} is what lets the defaults of its members get filled in. */
function optionalSection(properties: Record<string, SchemaObject>): SchemaObject {
  return { ...section(properties), default: {} };
}

function namedMap(entry: SchemaObject, description: string, minProperties = 0): SchemaObject {
  return { type: 'object', additionalProperties: entry, minProperties, description };
}

function withDefault(dflt: unknown): SchemaObject {
  return dflt === undefined ? {} : { default: dflt };
}

const globalSchema = optionalSection({
  groups: integer(1, 64, 1),
  threads: integer(1, 64, 1),
  shards: { shards: true, default: 1, description: SHARDS_EXAMPLE },
  maxconn: integer(1, MAX_MAXCONN, 20000),
  hardStopAfter: duration('30s'),
  maxReloads: integer(1, 1000, 50),
  masterSocket: { type: 'string', minLength: 1, description: 'a path for the master CLI socket, such as "/run/ferry/ferry.sock"' },
  masterSocketAccess: { socketAccess: true, description: 'an object with the keys mode, user, group' },
  stateFile: { type: 'string', minLength: 1, description: 'a path for the server state file, such as "/var/lib/ferry/servers.json"' },
  user: { userAccount: true, description: accountExample('user') },
  group: { groupAccount: true, description: accountExample('group') },
  // No default format: normalize.ts picks "journal" when stdout is journald's stream, else "json".
  log: optionalSection({ level: oneOf(LOG_LEVELS, 'info'), format: oneOf(LOG_FORMATS), access: { type: 'boolean', default: true, description: 'true or false' } }),
});

const frontendSchema = section(
  {
      bind: { bindList: true, description: 'a list of bind addresses such as ["127.0.0.1:8080"]' },
      mode: oneOf(MODES, 'tcp'),
      maxconn: integer(1, MAX_MAXCONN),
      backlog: integer(1, 65535, 1024),
      // No defaults for the HTTP ones: http-options.ts refuses them outside HTTP mode, normalize.ts fills them in.
      timeout: optionalSection({ client: duration('30s'), clientFin: duration('1s'), flow: duration('30s'), handshake: duration('10s'), proxyHeader: duration(), httpRequest: { positiveDuration: true, description: DURATION_EXAMPLE }, httpKeepAlive: { positiveDuration: true, description: DURATION_EXAMPLE } }),
      http: section({
        xForwardedFor: { type: 'boolean', description: 'true or false' },
        xForwardedProto: { type: 'boolean', description: 'true or false' },
        forwarded: { type: 'boolean', description: 'true or false' },
        xClientCertSubject: { type: 'boolean', description: 'true or false' },
        maxRequestLine: integer(...HEAD_SIZE_RANGE),
        maxHeaderSize: integer(...HEAD_SIZE_RANGE),
        maxConcurrentStreams: integer(...CONCURRENT_STREAMS_RANGE),
      }),
      maxFlows: integer(1, MAX_MAXCONN, 10000),
      maxFlowRate: integer(1, MAX_MAXCONN),
      // No defaults for these two: udp-options.ts refuses them where they mean nothing, normalize.ts fills them in.
      flowKey: oneOf(FLOW_KEYS),
      quicDcidLength: integer(0, 20),
      backend: { type: 'string', minLength: 1, description: 'the name of a backend' },
      rules: RULES_SCHEMA,
    },
  ['bind', 'backend'],
);

/**
 * A backend's `check`, or a server's over it: no defaults here, they are filled in after the two are
 * merged (check.ts). true turns checks on with the defaults, false off.
 */
const checkSchema: SchemaObject = {
  ...section({
    type: oneOf(CHECK_TYPES),
    interval: { positiveDuration: true, description: DURATION_EXAMPLE },
    timeout: { positiveDuration: true, description: DURATION_EXAMPLE },
    rise: integer(1, 100),
    fall: integer(1, 100),
    http: section({
      method: { type: 'string', pattern: '^[A-Z]{1,20}$', description: 'an HTTP method in capitals, such as "GET", "HEAD" or "OPTIONS"' },
      path: { type: 'string', pattern: '^/[\\x21-\\x7e]*$', description: 'a path that starts with "/", without spaces, such as "/health"' },
      host: { type: 'string', pattern: '^[\\x21-\\x7e]+$', description: 'a Host header without spaces, such as "app.example.com"' },
      status: { statusRange: true, description: STATUS_EXAMPLE },
    }),
    observe: section({ failures: integer(1, 1000) }, ['failures']),
  }),
  type: ['boolean', 'object'],
  description: 'true, false or an object with the keys type, interval, timeout, rise, fall, http, observe',
};

const PATHS = { type: ['string', 'array'], minLength: 1, minItems: 1, items: { type: 'string', minLength: 1 }, description: 'a file or directory path, or a non-empty list of them' };
const PATH = { type: 'string', minLength: 1, description: 'a file path such as "/etc/ferry/client.pem"' };

/** TLS towards servers (a server's or its backend's); the files are read by the master (src/conn/tls/server-load.ts). */
const serverTlsSchema = section({
  ca: PATHS,
  verify: { type: 'boolean', description: 'true or false' },
  sni: { type: 'string', pattern: '^[A-Za-z0-9.-]{1,253}$', description: 'a host name such as "app.internal"' },
  cert: PATH,
  key: PATH,
  alpn: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', description: 'a protocol name such as "http/1.1"' }, description: 'a non-empty list of protocol names such as ["http/1.1"]' },
});

const serverSchema = section(
  {
    address: { serverAddress: true, description: SERVER_ADDRESS_EXAMPLE },
    weight: integer(0, 256, 1),
    maxconn: integer(1, MAX_MAXCONN),
    check: checkSchema,
    backup: { type: 'boolean', description: 'true or false' },
    slowstart: duration(),
    pool: section({ maxIdle: integer(0, MAX_MAXCONN), idleTimeout: { positiveDuration: true, description: DURATION_EXAMPLE } }),
    sendProxy: oneOf(PROXY_VERSIONS),
    tls: serverTlsSchema,
  },
  ['address'],
);

const backendSchema = section({
  balance: { balance: true, default: 'roundrobin', description: BALANCE_EXAMPLE },
  retries: integer(0, 100, 3),
  redispatch: { type: 'boolean', default: true, description: 'true or false' },
  timeout: optionalSection({ connect: duration('5s'), server: duration('30s'), serverFin: duration(), queue: duration(), tunnel: duration() }),
  servers: namedMap(serverSchema, 'a non-empty map of server names to servers, such as {"s1": {"address": "127.0.0.1:9000"}}', 1),
  service: oneOf(SERVICES),
  return: RETURN_SCHEMA,
  resolve: section({
    interval: duration(),
    nameservers: { type: 'array', minItems: 1, items: { nameserver: true, description: NAMESERVER_EXAMPLE }, description: 'a list of DNS server addresses such as ["10.0.0.2:53"]' },
  }),
  check: checkSchema,
  slowstart: duration(),
  sendProxy: oneOf(PROXY_VERSIONS),
  tls: serverTlsSchema,
});

/**
 * The whole file. Editors read this very object (`ferry schema` prints it): it names its draft, and
 * the file may name it back with a top-level "$schema", which ferry ignores.
 */
export const CONFIG_SCHEMA: SchemaObject = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'ferry configuration',
  ...section(
    {
      global: globalSchema,
      frontends: namedMap(frontendSchema, 'a map of frontend names to frontends, with at least one entry', 1),
      backends: { ...namedMap(backendSchema, 'a map of backend names to backends'), default: {} },
      $schema: { type: 'string', description: 'the path or URL of this schema, for editors, such as "./ferry.schema.json" (ferry ignores it)' },
    },
    ['frontends'],
  ),
};

let compiled: ValidateFunction | undefined;

/** ajv fills in defaults by mutating its input, so callers must pass a copy they own. */
export function schemaValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true, allowUnionTypes: true, keywords: CUSTOM_KEYWORDS });
    compiled = ajv.compile(CONFIG_SCHEMA);
  }
  return compiled;
}
