import type { Config } from '../src/config/types';
import type { Logger } from '../src/log/log';
import type { ResolvedAddress } from '../src/proto/server-push';
import type { BoundReceiver } from './binder';
import { HealthChecker, type CheckReport } from './health';
import { WorkerSlot, type SlotLifecycle, type WorkerEvents } from './worker-slot';
import { FlowOwners } from '../src/datagram/owner';

/** Once killed, how long workers get to exit before SIGKILL. */
const KILL_GRACE_MS = 2_000;

/**
 * What a generation needs from the master: its workers' events go there unchanged (the master finds
 * a slot's generation by its number), and the health checks' results.
 */
export interface GenerationHost extends WorkerEvents {
  /** The master's directory for the workers' redispatch sockets. */
  readonly datagramDir: string;
  /** A health check of one of `from`'s servers ended. */
  checked(from: Generation, ...result: Parameters<CheckReport>): void;
}

/**
 * The workers started from one configuration: one slot per thread group, all sharing the master's
 * receivers. Generation n+1 replaces n on reload.
 */
export class Generation {
  readonly slots: WorkerSlot[];
  /** Which of its threads owns each UDP flow. */
  readonly owners: FlowOwners;
  /** Its servers' health checks: they run while it is the serving generation. */
  readonly checker: HealthChecker;
  /** Its sessions were closed before they ended by themselves (hardStopAfter, maxReloads, a second stop signal). */
  hardStopped = false;
  private readonly unready = new Set<WorkerSlot>();
  private readonly running = new Set<WorkerSlot>();
  private whenReady: (() => void) | undefined;
  private whenFailed: ((err: Error) => void) | undefined;
  private whenStopped: (() => void) | undefined;
  private readonly lifecycle: SlotLifecycle;
  /**
   * A reload in place: the generation this one took its running workers from (until it serves), and
   * the workers whose stacks of this generation still finish sessions once a newer one took them.
   */
  private predecessor: Generation | undefined;
  private readonly inPlace = new Set<WorkerSlot>();
  /** Sessions its stacks handed over to a newer generation inside their threads (a reload in place). */
  handedOverInPlace = 0;

  constructor(
    readonly n: number,
    readonly config: Config,
    readonly receivers: readonly BoundReceiver[],
    log: Logger,
    failFast: boolean,
    host: GenerationHost,
    /** A reload in place: the running workers this generation takes from its predecessor. */
    from?: Generation,
  ) {
    const lifecycle: SlotLifecycle = {
      ready: (s: WorkerSlot) => this.slotReady(s),
      stopped: (s: WorkerSlot) => this.slotStopped(s),
      failed: (_: WorkerSlot, reason: string) => this.whenFailed?.(new Error(reason)),
    };
    this.lifecycle = lifecycle;
    const resolved = (backend: string, server: string): ResolvedAddress | undefined =>
      host.servers(config).addresses.find((a) => a.backend === backend && a.server === server);
    this.checker = new HealthChecker(config, (...result) => host.checked(this, ...result), resolved);
    this.owners = new FlowOwners(config.global.groups, config.global.threads);
    this.predecessor = from;
    this.slots = from?.giveSlots() ?? Array.from({ length: config.global.groups }, (_, group) => new WorkerSlot(group, n, config, receivers, host.datagramDir, log, lifecycle, host, failFast));
  }

  /** Its workers go to the next generation (a reload in place); it keeps them only to stop its own stacks there. */
  private giveSlots(): WorkerSlot[] {
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      this.running.delete(slot);
      this.inPlace.add(slot);
    }
    return slots;
  }

  /** A reload in place given up: the workers serve this generation again, and the newer stacks hand back what they took. */
  private takeSlotsBack(slots: WorkerSlot[], from: number): void {
    for (const slot of slots) {
      this.inPlace.delete(slot);
      this.running.add(slot);
      this.slots.push(slot);
      slot.resume(this.n, this.config, this.receivers, this.lifecycle);
      slot.stopGeneration(from, true);
    }
  }

  /** One of its workers drained its stacks of this generation after a reload in place (or died). */
  retiredIn(slot: WorkerSlot, handedOver: number): void {
    if (!this.inPlace.delete(slot)) return;
    this.handedOverInPlace += handedOver;
    if (this.inPlace.size === 0 && this.running.size === 0) this.whenStopped?.();
  }

  /**
   * Starts every slot; resolves once each worker has reported all its threads ready. A fail-fast
   * generation rejects when a worker dies first or when `timeoutMs` passes.
   */
  start(timeoutMs?: number): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      this.whenReady = resolve;
      this.whenFailed = reject;
      for (const slot of this.slots) {
        this.unready.add(slot);
        this.running.add(slot);
        if (this.predecessor === undefined) slot.start();
        else slot.reconfigure(this.n, this.config, this.receivers, this.lifecycle);
      }
    });
    if (timeoutMs === undefined) return started;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`workers not ready after ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([started, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Gives up on a generation that failed to start: its workers are killed, they held no session. A
   * reload in place gives its running workers back to the predecessor instead.
   */
  abort(): void {
    this.checker.stop();
    if (this.predecessor !== undefined) return this.predecessor.takeSlotsBack(this.slots.splice(0), this.n);
    for (const slot of this.slots) slot.destroy();
  }

  /** It serves: it no longer needs its predecessor (which lets go of it). */
  serves(): void {
    this.predecessor = undefined;
  }

  /**
   * Stops accepting and lets sessions finish; after `hardStopAfter` ms the remaining sessions are
   * closed, and workers still alive KILL_GRACE_MS later are killed. Resolves when every worker is gone.
   */
  stop(hardStopAfter: number, handOver = false): Promise<void> {
    this.checker.stop();
    const stopped = new Promise<void>((resolve) => (this.whenStopped = resolve));
    const hard = setTimeout(() => this.kill(), hardStopAfter);
    const last = setTimeout(() => this.slots.forEach((s) => s.destroy()), hardStopAfter + KILL_GRACE_MS);
    for (const slot of this.slots) slot.stop(handOver);
    for (const slot of this.inPlace) slot.stopGeneration(this.n, handOver);
    if (this.running.size === 0 && this.inPlace.size === 0) this.whenStopped?.();
    return stopped.finally(() => {
      clearTimeout(hard);
      clearTimeout(last);
    });
  }

  /** Its workers start reading their UDP sockets: the flows of older generations have reached them. */
  handOverFlows(): void {
    for (const slot of this.slots) slot.handOverFlows();
  }

  readDatagrams(): void {
    for (const slot of this.slots) slot.readDatagrams();
  }

  /** Every worker gets the server settings, health and addresses again, after one of them changed. */
  pushServers(): void {
    for (const slot of this.slots) slot.pushServers();
  }

  /** Closes every session now; the workers exit once they have. */
  kill(): void {
    this.hardStopped = true;
    for (const slot of this.slots) slot.kill();
    for (const slot of this.inPlace) slot.killGeneration(this.n);
  }

  private slotReady(slot: WorkerSlot): void {
    this.unready.delete(slot);
    if (this.unready.size === 0) this.whenReady?.();
  }

  private slotStopped(slot: WorkerSlot): void {
    this.running.delete(slot);
    if (this.running.size === 0 && this.inPlace.size === 0) this.whenStopped?.();
  }
}
