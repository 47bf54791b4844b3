// Pre-flight: what a configuration must pass before it serves, in the order it runs. The
// configuration loads and validates, its certificates are read (by the master, as the user it starts
// as), the user it runs the workers as can be taken, the master socket can be made where it says
// (start and check), its servers' host names resolve, and every bind can be bound. `ferry check`, the master's start and every reload run these steps here; each says
// in its own words which step failed.

import { loadConfigOrProblems, type LoadOptions } from '../src/config/load';
import type { Config } from '../src/config/types';
import { loadCertificates } from '../src/conn/tls/load';
import { cannotRunAs } from '../src/os/privileges';
import { BindError, bindAll, type BoundReceiver } from './binder';
import type { InheritedSockets } from './inherited';
import type { ServerAddresses } from './server-addresses';
import { socketOwners, socketPathProblems } from './socket-dir';

/** The steps that read the configuration, and those that run once it is read. */
export type ReadStep = 'config' | 'certificates';
export type CheckStep = 'run-as' | 'master-socket' | 'resolve' | 'bind';
export type PreflightStep = ReadStep | CheckStep;

export interface PreflightFailure<S extends PreflightStep = PreflightStep> {
  ok: false;
  /** The step that failed; the ones after it did not run. */
  step: S;
  problems: string[];
}

export type ReadResult = { ok: true; config: Config } | PreflightFailure<ReadStep>;

/** `receivers` is empty when the options ask for no binding. */
export type PreflightResult<S extends PreflightStep = PreflightStep> = { ok: true; config: Config; receivers: BoundReceiver[] } | PreflightFailure<S>;

export interface PreflightOptions {
  /** Resolves the servers' host names; the master's keeps what it found for its workers. */
  addresses: ServerAddresses;
  /**
   * Checks that global.masterSocket can be made, as this user: start and check (a reload keeps the
   * socket it has).
   */
  masterSocket?: boolean;
  /** Binds every receiver; without it nothing is bound (check --no-bind). */
  bind?: {
    /** The sockets the service manager passed, asked for when binding starts. */
    inherited: () => InheritedSockets;
    /** The running generation's receivers (reload): a bind that stays keeps its socket and accept queue. */
    keep?: readonly BoundReceiver[];
  };
}

/** The first two steps, which need nothing running: the configuration loaded and its certificates read. */
export function readConfig(source: LoadOptions): ReadResult {
  const loaded = loadConfigOrProblems(source);
  if (loaded.config === undefined) return { ok: false, step: 'config', problems: loaded.problems };
  const certified = loadCertificates(loaded.config);
  if (certified.config === undefined) return { ok: false, step: 'certificates', problems: certified.problems };
  return { ok: true, config: certified.config };
}

/**
 * Runs every step from reading `from.source`, or from the run-as check when `from.config` was read
 * already (with its certificates), and stops at the first that fails. Binding either binds every
 * receiver or leaves none bound.
 */
export async function preflight(from: { source: LoadOptions }, options: PreflightOptions): Promise<PreflightResult>;
export async function preflight(from: { config: Config }, options: PreflightOptions): Promise<PreflightResult<CheckStep>>;
export async function preflight(from: { source: LoadOptions } | { config: Config }, options: PreflightOptions): Promise<PreflightResult> {
  const read = 'config' in from ? { ok: true as const, config: from.config } : readConfig(from.source);
  if (!read.ok) return read;
  const { config } = read;
  const refused = cannotRunAs(config.global.runAs);
  if (refused !== undefined) return { ok: false, step: 'run-as', problems: [refused] };
  if (options.masterSocket) {
    const { masterSocket, masterSocketAccess } = config.global;
    const problems = socketPathProblems(masterSocket, socketOwners(masterSocketAccess));
    if (problems.length > 0) return { ok: false, step: 'master-socket', problems: problems.map((p) => `global.masterSocket "${masterSocket}": ${p}`) };
  }
  const unresolved = await options.addresses.resolve(config);
  if (unresolved.length > 0) return { ok: false, step: 'resolve', problems: unresolved };
  if (options.bind === undefined) return { ok: true, config, receivers: [] };
  const { inherited, keep = [] } = options.bind;
  try {
    const receivers = await bindAll(config, new Map(keep.map((r) => [r.id, r])), inherited());
    return { ok: true, config, receivers };
  } catch (err) {
    if (!(err instanceof BindError)) throw err;
    return { ok: false, step: 'bind', problems: err.problems };
  }
}
