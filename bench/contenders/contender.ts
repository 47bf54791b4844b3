// What every proxy under test looks like to the measurements: a port to send
// traffic to and the pid whose memory counts (for ferry that is the worker,
// not the master, because the worker carries the tunnels).

export interface Contender {
  readonly name: string;
  readonly port: number;
  readonly dataPid: number;
  /** Every process that carries traffic, when more than dataPid (ferry with several groups): CPU and RSS are their sum. */
  readonly workers?: readonly number[];
  stop(): Promise<void>;
}

/**
 * A proxy started so that it can replace its workers in place. dataPid is the
 * first worker only: every reload replaces it.
 */
export interface ReloadableContender extends Contender {
  /** The master: its tree (its own CPU, its workers', and that of the workers it reaped) is the proxy's. */
  readonly rootPid: number;
  /** Resolves once the proxy has the request, not once the reload is over. */
  reload(): Promise<void>;
  /** Reloads the proxy itself reports as completed since it started. */
  reloadsDone(): Promise<number>;
}

export interface ContenderKind {
  readonly kind: string;
  /** Why it cannot run here, or null when it can. */
  unavailable(): string | null;
  start(name: string, backendPort: number): Promise<Contender>;
  /** Absent when the proxy has no way to reload. */
  readonly startReloadable?: (name: string, backendPort: number) => Promise<ReloadableContender>;
}
