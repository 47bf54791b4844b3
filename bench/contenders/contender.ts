// What every proxy under test looks like to the measurements: a port to send
// traffic to and the pid whose memory counts (for ferry that is the worker,
// not the master, because the worker carries the tunnels).

export interface Contender {
  readonly name: string;
  readonly port: number;
  readonly dataPid: number;
  stop(): Promise<void>;
}

export interface ContenderKind {
  readonly kind: string;
  /** Why it cannot run here, or null when it can. */
  unavailable(): string | null;
  start(name: string, backendPort: number): Promise<Contender>;
}
