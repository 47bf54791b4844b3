// The validated, normalized configuration. Everything here is plain data (numbers, strings, arrays,
// objects) so that the master can send it to workers over the cluster IPC channel unchanged.
// Durations are milliseconds.

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/**
 * `json`: one pino JSON object a line, for machines; `text`: lines for people; `journal`: JSON lines
 * each after its syslog priority (`<3>`), which journald takes as the entry's priority.
 */
export type LogFormat = 'json' | 'text' | 'journal';

/** A bind's shards as written: one socket per thread, one per thread group, or a count (see shards.ts). */
export type ShardSpec = 'by-thread' | 'by-group' | number;

export interface GlobalConfig {
  groups: number;
  threads: number;
  /** Every shardable bind's shards, unless the bind has its own (see shards.ts); 1: one shared socket. */
  shards: ShardSpec;
  maxconn: number;
  hardStopAfter: number;
  /** Old generations still draining beyond this many are hard-stopped, oldest first. */
  maxReloads: number;
  /** The master CLI's Unix socket (SOCK_SEQPACKET). */
  masterSocket: string;
  /** Who may use the master socket; the mode defaults to 0600. */
  masterSocketAccess: SocketAccess & { mode: number };
  /** Where the operators' server settings are saved and read back at start (absolute); absent: not saved. */
  stateFile?: string;
  /** Who the workers run as (global.user, global.group); absent: as the master. */
  runAs?: RunAs;
  log: LogSettings;
}

export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
  /** The access log: one line per TCP session or HTTP request (at info). */
  access: boolean;
}

/**
 * Workers drop to these ids, resolved on this host when the configuration was read. The names are
 * kept as written, for messages.
 */
export interface RunAs {
  user: string;
  group?: string;
  uid: number;
  gid: number;
  /** The user's account name, whose supplementary groups the workers get; absent for an id no account has. */
  account?: string;
}

/** A Unix socket file's permission bits, owner and group (user and group: a name or a numeric id). */
export interface SocketAccess {
  mode?: number;
  user?: string;
  group?: string;
}

export type BindAddress =
  | { kind: 'tcp'; host: string; port: number; family: 4 | 6; v6only: boolean }
  | ({ kind: 'unix'; path: string } & SocketAccess)
  | { kind: 'abns'; name: string }
  /** A UDP socket on one address (never a wildcard: see address.ts). */
  | { kind: 'udp'; host: string; port: number; family: 4 | 6 }
  /** A socket passed by the service manager (socket activation), by name or, when all digits, by fd number. */
  | { kind: 'fd'; name: string };

export interface BindConfig {
  /** The address as the user wrote it, for messages. */
  text: string;
  /** Identity of the receiver: two binds with the same key are the same socket. */
  key: string;
  address: BindAddress;
  /** TLS termination on this bind (TCP binds only). */
  tls?: TlsConfig;
  /** Every connection begins with a PROXY protocol header (v1 or v2), whose source is the client (TCP binds only). */
  acceptProxy?: true;
  /** SO_REUSEPORT sockets the master opens for this bind, each accepted on by its own threads (shardOf); absent: one. */
  shards?: number;
}

export interface TlsConfig {
  /** Certificate files and directories as configured, made absolute against the directory ferry starts in. */
  certs: string[];
  /** Protocols offered in ALPN, in order of preference; empty: no ALPN. */
  alpn: string[];
  /** Client certificates: CA files and directories they must chain to (absolute paths). */
  clientCa?: string[];
  /** With clientCa: "required", a client without a valid certificate is refused; "optional", one without is served. */
  verifyClient?: 'required' | 'optional';
  /** The CA certificates the master read from clientCa. */
  clientCaPem?: string[];
  /**
   * The certificates the master read from `certs` (src/conn/tls/load.ts), the default first; empty until
   * it did. Holds private keys: never log it, never show it.
   */
  certificates: Certificate[];
}

/** One certificate chain and its private key, as PEM text, with the names SNI picks it by. */
export interface Certificate {
  /** Where the chain and the key came from, for messages. */
  file: string;
  keyFile: string;
  cert: string;
  key: string;
  /** DNS names in lower case, "*.example.com" for a wildcard; the subject's CN when it has no DNS subjectAltName. */
  names: string[];
}

export type Mode = 'tcp' | 'udp' | 'http';

/** What makes UDP datagrams one flow: the client's address, a QUIC destination connection id, or nothing. */
export type FlowKeyKind = 'address' | 'quic-dcid' | 'none';

export interface FrontendConfig {
  name: string;
  bind: BindConfig[];
  mode: Mode;
  maxconn: number;
  backlog: number;
  /**
   * `clientFin`: once ferry has sent its FIN to the client, how long the client may take to close
   * (HTTP: a deadline, what it sends is dropped; TCP: inactivity, what it sends still goes on).
   * `flow`: how long a UDP flow lives without a datagram either way. `handshake`: how long a TLS
   * handshake may take in all (a deadline, where `client` is an inactivity timer). HTTP mode only
   * (and always there): `httpRequest`, how long a request head may take to arrive; `httpKeepAlive`,
   * how long a client connection may idle between requests. `proxyHeader`: how long the PROXY
   * header of an `acceptProxy` bind's connection may take to arrive whole (a deadline from the
   * accept; `client` by default).
   */
  timeout: { client: number; clientFin: number; flow: number; handshake: number; proxyHeader: number; httpRequest?: number; httpKeepAlive?: number };
  /** HTTP mode only (and always there). */
  http?: HttpOptions;
  /** UDP flows at once, over the whole service; new flows past it are dropped and counted. */
  maxFlows: number;
  /** New UDP flows per second, over the whole service (each thread enforces its share); absent: no limit. */
  maxFlowRate?: number;
  flowKey: FlowKeyKind;
  /** The DCID length of QUIC short-header packets (flowKey "quic-dcid"); 8 by default. */
  quicDcidLength: number;
  backend: string;
  /** HTTP mode only: tried in order for each request, the first match chooses its backend; none: `backend`. */
  rules?: RuleConfig[];
}

/** A routing rule of an HTTP frontend (src/http/router.ts). */
export interface RuleConfig {
  if: RuleCondition;
  backend: string;
}

/** What a request must have for its rule to match: every condition given (at least one) must hold. */
export interface RuleCondition {
  /** Lower case, without port; "*.example.com" matches exactly one more label. */
  host?: string;
  pathPrefix?: string;
  /** `name` in lower case; some field of that name has exactly `value`. */
  header?: { name: string; value: string };
}

/** What an HTTP frontend adds to requests, and how large a request head may be (bytes). */
export interface HttpOptions {
  xForwardedFor: boolean;
  xForwardedProto: boolean;
  forwarded: boolean;
  /** Send the server the subject of the client's verified certificate (binds with tls.clientCa), in X-Client-Cert-Subject. */
  xClientCertSubject: boolean;
  maxRequestLine: number;
  maxHeaderSize: number;
  /** HTTP/2: streams a client may have open at once on one connection. */
  maxConcurrentStreams: number;
}

/** Idle server connections kept for reuse by HTTP streams, per server and thread. */
export interface PoolConfig {
  maxIdle: number;
  idleTimeout: number;
}

/** How a backend chooses the server of each new session (src/backend/balance). */
export type BalanceConfig =
  | { algorithm: 'roundrobin' | 'leastconn' | 'source' }
  /** `draws` servers drawn at random by weight; the least loaded of them takes the session. */
  | { algorithm: 'random'; draws: number }
  /** HTTP mode: a hash of the request's path (`whole`: with its query string). */
  | { algorithm: 'uri'; whole: boolean }
  /** HTTP mode: a hash of a header field's value (name in lower case); requests without it go round-robin. */
  | { algorithm: 'hdr'; header: string };
/** Built-in services that take over a TCP connection. */
export type TcpServiceName = 'echo' | 'hello';
/** Built-in services that answer HTTP requests. */
export type HttpServiceName = 'health' | 'stats';
export type ServiceName = TcpServiceName | HttpServiceName;

/** A backend that answers every HTTP request itself with a fixed response. */
export interface ReturnConfig {
  status: number;
  /** In the order given, names as written. */
  headers: [string, string][];
  body: string;
}

export interface ServerConfig {
  name: string;
  host: string;
  port: number;
  weight: number;
  /** Sessions at once on the server, over the whole service; absent: no limit. */
  maxconn?: number;
  /** Active health checks (run by the master); absent: none, the server counts as UP. */
  check?: CheckConfig;
  /** Used only when no normal server of the backend is usable. */
  backup?: true;
  /** After coming back (DOWN or MAINT to UP), the weight ramps up from ~0 over this many ms. */
  slowstart?: number;
  /** Absent: the defaults (config/http-options.ts). */
  pool?: PoolConfig;
  /** A PROXY protocol header goes to the server before any byte of the client (the server's, or its backend's). */
  sendProxy?: 'v1' | 'v2';
  /** TLS towards the server (the server's `tls`, or its backend's). */
  tls?: ServerTlsConfig;
}

/**
 * TLS from ferry to a server. The paths are absolute; the master reads the files (src/conn/tls/
 * server-load.ts) when it checks, starts and reloads, and the PEM text travels to the workers.
 */
export interface ServerTlsConfig {
  /** Check the server's certificate chain and name; false: accept any certificate (encryption only). */
  verify: boolean;
  /** CA files and directories to verify with; absent: the system's CAs. */
  ca?: string[];
  /** The name sent in SNI and checked against the certificate; absent: none (the server is given by IP address). */
  sni?: string;
  /** A client certificate chain (its key in it, beside it as NAME.key, or in `key`). */
  cert?: string;
  key?: string;
  /** Protocols offered in ALPN; empty: none. */
  alpn: string[];
  /** What the master read: the CA certificates, the client chain and its key (never log it). */
  caPem?: string[];
  certPem?: string;
  keyPem?: string;
}

export type CheckType = 'tcp' | 'http';

/** A server's health check: its backend's `check` refined by its own, defaults filled in. */
export interface CheckConfig {
  type: CheckType;
  interval: number;
  timeout: number;
  /** Successes in a row that bring a DOWN server UP. */
  rise: number;
  /** Failures in a row that take an UP server DOWN. */
  fall: number;
  /** Only for type "http". */
  http?: HttpCheckConfig;
  /** Passive detection: this many failed connect attempts in a row on live traffic mark the server DOWN. */
  observe?: { failures: number };
}

export interface HttpCheckConfig {
  method: string;
  path: string;
  /** The Host header; absent: the server's address. */
  host?: string;
  /** The statuses that pass, inclusive. */
  status: { min: number; max: number };
}

export interface BackendConfig {
  name: string;
  balance: BalanceConfig;
  retries: number;
  redispatch: boolean;
  /**
   * `queue`: how long a session may wait for a server slot. `serverFin`: once ferry has sent its
   * FIN to a server, how long the server may stay idle (it replaces `server` and `tunnel` there).
   */
  timeout: { connect: number; server: number; serverFin: number; queue: number; tunnel?: number };
  servers: ServerConfig[];
  service?: ServiceName;
  return?: ReturnConfig;
  resolve?: ResolveConfig;
}

/** How the master finds the addresses of servers given by host name (names are resolved at start and reload). */
export interface ResolveConfig {
  /** Resolve again this often (ms), following address changes; absent: at start and reload only. */
  interval?: number;
  /** DNS servers to ask, as "ip:port"; absent: the system's resolver (getaddrinfo: /etc/hosts, then DNS). */
  nameservers?: string[];
}

export interface Config {
  global: GlobalConfig;
  frontends: Record<string, FrontendConfig>;
  backends: Record<string, BackendConfig>;
}
