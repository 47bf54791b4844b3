import type { SendHandle } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../src/config/types';
import { SHARD_FDS_ENV, type FromWorker, type HandOver, type Observed, type StatsWhat, type ToWorker, type WorkerUsage } from '../src/proto/ipc';
import { PartJoiner, sendParts } from '../src/proto/handover-parts';
import type { Logger } from '../src/log/log';
import type { ServerPush } from '../src/proto/server-push';
import type { StackSnapshot, ThreadSnapshot } from '../src/proto/snapshot';
import { Backoff } from './backoff';
import { openShardFds, type BoundReceiver, type ServerHandle } from './binder';
import { shardOf } from '../src/config/shards';

/** What happens to a slot's worker that only its generation acts on. */
export interface SlotLifecycle {
  /** The slot's worker reported every thread ready (after each start, restarts included). */
  ready(slot: WorkerSlot): void;
  /** The slot's worker exited while the slot was stopping: the slot is done. */
  stopped(slot: WorkerSlot): void;
  /** A fail-fast slot's worker died before it was ever ready: it is not restarted. */
  failed(slot: WorkerSlot, reason: string): void;
}

/** What a slot's worker tells the master, through its generation unchanged. */
export interface WorkerEvents {
  /** The worker hands a session or a UDP flow over to the next generation, with its sockets. */
  handOver(slot: WorkerSlot, handOver: HandOver, sockets: object[]): void;
  /** The worker took a session handed over to it (or, for a flow, `closed` it). */
  adopted(slot: WorkerSlot, id: string, closed: boolean): void;
  /** Stopping with a hand-over, the worker's threads no longer read UDP receivers. */
  quiet(slot: WorkerSlot): void;
  /** Stopping with a hand-over, the worker has sent every UDP flow it could. */
  flowsOut(slot: WorkerSlot): void;
  /** The slot's worker (`pid`) exited, for whatever reason; `restarting`: it died and is started again. */
  exited(slot: WorkerSlot, pid: number | undefined, restarting: boolean): void;
  /** The last counters of stacks of the worker `pid` that drained. */
  counters(slot: WorkerSlot, pid: number, threads: StackSnapshot[]): void;
  /** The `stats` service in the worker asks for the service's totals; answer with `answerStats`. */
  stats(slot: WorkerSlot, ref: number, what: StatsWhat): void;
  /** Operators' server settings, health and resolved addresses that apply to `config`. */
  servers(config: Config): ServerPush;
  /** A thread's passive detection took a server DOWN. */
  observed(slot: WorkerSlot, msg: Observed): void;
  /** The worker's stacks of `generation`, stopped in place, have drained after handing `handedOver` sessions over. */
  retired(slot: WorkerSlot, generation: number, handedOver: number): void;
}

/** How long a worker may take to answer a snapshot request before the master CLI goes on without it. */
export const SNAPSHOT_TIMEOUT_MS = 2_000;

/**
 * One thread group's place in a generation: the worker process that fills it, replaced with capped
 * exponential backoff whenever it dies without being asked to.
 */
export class WorkerSlot {
  private worker: Worker | undefined;
  /** When the current worker was forked (ms since the epoch). */
  startedAt = 0;
  /** Workers forked to replace one that died. */
  restarts = 0;
  /** What the worker said of its memory and event loop with its last snapshot. */
  usage: WorkerUsage | undefined;
  private readonly snapshots = new Map<number, (threads: ThreadSnapshot[] | undefined) => void>();
  private nextSnapshot = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** The current worker has its configuration and sockets. */
  private equipped = false;
  /** Hand-overs from the current worker arriving one socket at a time. */
  private readonly leaving = new PartJoiner();
  private everReady = false;
  /** The current worker reported every thread ready. */
  private ready = false;
  /** Its workers read their UDP sockets (see DatagramGate); a worker restarted later reads at once. */
  private reading = false;
  private readonly backoff = new Backoff();

  /** A reload in place is starting the worker's stacks of the slot's (new) generation. */
  private reconfiguring = false;

  constructor(
    readonly group: number,
    /** The generation the slot serves: a reload in place gives the running worker to the next one. */
    public generation: number,
    private config: Config,
    private receivers: readonly BoundReceiver[],
    private readonly datagramDir: string,
    private readonly log: Logger,
    private lifecycle: SlotLifecycle,
    private readonly events: WorkerEvents,
    /** A reload's new generation must come up at once or not at all: no restart before first ready. */
    private readonly failFast: boolean,
  ) {}

  get pid(): number | undefined {
    return this.worker?.process.pid;
  }

  /** For `show proc`: what the slot's worker is doing. */
  get state(): 'starting' | 'ready' | 'stopping' | 'waiting restart' {
    if (this.worker === undefined) return 'waiting restart';
    if (this.stopping) return 'stopping';
    return this.ready ? 'ready' : 'starting';
  }

  start(): void {
    const worker = cluster.fork({ [SHARD_FDS_ENV]: openShardFds().join(',') });
    this.worker = worker;
    this.equipped = false;
    this.ready = false;
    // A worker started afresh equips from the slot's configuration: no reload in place is pending in it.
    this.reconfiguring = false;
    this.startedAt = Date.now();
    worker.on('online', () => this.equip(worker));
    worker.on('message', (msg: FromWorker, handle?: object) => this.onMessage(worker, msg, handle));
    worker.on('exit', (code, signal) => this.onExit(worker, code, signal));
    // A send to a worker that just died fails asynchronously; its exit is handled above.
    worker.on('error', (err) => this.log.debug({ generation: this.generation, group: this.group, err: err.message }, 'worker channel error'));
    this.log.info({ generation: this.generation, group: this.group, worker: worker.process.pid }, 'worker started');
  }

  /**
   * Graceful: the worker stops accepting and exits once its sessions have ended; with `handOver`, it
   * first hands over to the next generation the sessions that can move.
   */
  stop(handOver = false): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    if (this.worker === undefined) return this.lifecycle.stopped(this);
    // A worker that has not received its sockets yet holds no session: it can just go.
    if (!this.equipped) this.worker.process.kill();
    else this.send(this.worker, { type: 'stop', handOver });
  }

  /**
   * A reload in place: the running worker starts stacks of generation `n` from `config` beside its
   * own, on fresh dups of `receivers`, and the slot belongs to that generation from now on (a worker
   * waiting for its restart simply starts from it).
   */
  reconfigure(n: number, config: Config, receivers: readonly BoundReceiver[], lifecycle: SlotLifecycle): void {
    this.assign(n, config, receivers, lifecycle);
    const worker = this.worker;
    if (worker === undefined || !this.equipped) return;
    this.ready = false;
    this.reconfiguring = true;
    this.send(worker, { type: 'reconfigure', config, generation: n });
    this.send(worker, { type: 'servers', ...this.events.servers(config) });
    this.sendReceivers(worker);
    this.send(worker, { type: 'start' });
  }

  /** One dup of every receiver per thread (each send is a new fd there): of the thread's own shard. */
  private sendReceivers(worker: Worker): void {
    for (let thread = 0; thread < this.config.global.threads; thread++) {
      for (const r of this.receivers) this.send(worker, { type: 'receiver', id: r.id, thread }, this.shardFor(r, thread));
    }
  }

  private shardFor(r: BoundReceiver, thread: number): ServerHandle {
    const { groups, threads } = this.config.global;
    return r.shards[shardOf(r.shards.length, groups, threads, this.group, thread)];
  }

  /** The slot serves generation `n`. */
  assign(n: number, config: Config, receivers: readonly BoundReceiver[], lifecycle: SlotLifecycle): void {
    this.generation = n;
    this.config = config;
    this.receivers = receivers;
    this.lifecycle = lifecycle;
  }

  /**
   * A reload in place given up: the slot serves generation `n` again. The worker's stacks of `n`
   * never stopped, so a worker that was taking the next generation is ready as it was.
   */
  resume(n: number, config: Config, receivers: readonly BoundReceiver[], lifecycle: SlotLifecycle): void {
    this.assign(n, config, receivers, lifecycle);
    if (this.reconfiguring) this.ready = true;
    this.reconfiguring = false;
  }

  /** Only the worker's stacks of generation `n` stop; with `handOver`, their sessions go to its newest other stacks. */
  stopGeneration(n: number, handOver: boolean): void {
    if (this.worker !== undefined) this.send(this.worker, { type: 'stop', handOver, generation: n });
  }

  /** Hard stop of the worker's stacks of generation `n` only. */
  killGeneration(n: number): void {
    if (this.worker !== undefined) this.send(this.worker, { type: 'kill', generation: n });
  }

  /** Stopping with a hand-over, once every worker of the generation is quiet: the UDP flows go. */
  handOverFlows(): void {
    if (this.worker !== undefined) this.send(this.worker, { type: 'handOverFlows' });
  }

  /** Hard stop: the worker closes every session now. */
  kill(): void {
    if (this.worker !== undefined) this.send(this.worker, { type: 'kill' });
  }

  /** Last resort for a worker that does not obey, or a new generation given up on. */
  destroy(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.worker?.process.kill('SIGKILL');
  }

  /**
   * Sends the configuration, then one dup of every receiver per thread, of its shard.
   * Every thread reads every UDP socket too; each datagram goes on to the thread that owns its flow.
   */
  private equip(worker: Worker): void {
    if (this.stopping) return;
    this.equipped = true;
    this.send(worker, { type: 'init', config: this.config, group: this.group, generation: this.generation, datagramDir: this.datagramDir });
    this.send(worker, { type: 'servers', ...this.events.servers(this.config) });
    this.sendReceivers(worker);
    this.send(worker, { type: 'start' });
    if (this.reading) this.send(worker, { type: 'readDatagrams' });
  }

  readDatagrams(): void {
    this.reading = true;
    if (this.worker !== undefined && this.equipped) this.send(this.worker, { type: 'readDatagrams' });
  }

  private onMessage(worker: Worker, msg: FromWorker, handle: object | undefined): void {
    switch (msg.type) {
      case 'ready':
        this.log.info({ generation: this.generation, group: this.group, worker: worker.process.pid, threads: msg.threads }, 'worker ready');
        this.everReady = true;
        this.ready = true;
        this.reconfiguring = false;
        this.lifecycle.ready(this);
        break;
      case 'rearm': {
        const r = this.receivers.find((x) => x.id === msg.id);
        if (r !== undefined) this.send(worker, { type: 'rearm', id: msg.id, thread: msg.thread }, this.shardFor(r, msg.thread));
        break;
      }
      case 'handOverPart': {
        const joined = handle === undefined ? undefined : this.leaving.take(msg, handle);
        if (joined !== undefined) this.events.handOver(this, joined.handOver, joined.sockets);
        break;
      }
      case 'adopted':
        this.events.adopted(this, msg.id, msg.closed);
        break;
      case 'quiet':
        this.events.quiet(this);
        break;
      case 'flowsOut':
        this.events.flowsOut(this);
        break;
      case 'snapshot':
        this.usage = msg.usage;
        this.snapshots.get(msg.ref)?.(msg.threads);
        break;
      case 'counters':
        if (worker.process.pid !== undefined) this.events.counters(this, worker.process.pid, msg.threads);
        break;
      case 'stats':
        this.events.stats(this, msg.ref, msg.what);
        break;
      case 'observed':
        this.events.observed(this, msg);
        break;
      case 'failed':
        this.log.error({ generation: this.generation, group: this.group, reason: msg.reason }, 'worker failed to start');
        if (this.reconfiguring) this.lifecycle.failed(this, msg.reason);
        break;
      case 'retired':
        this.events.retired(this, msg.generation, msg.handedOver);
        break;
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    for (const answer of this.snapshots.values()) answer(undefined);
    // Parts of a hand-over the worker died before completing: the session is lost with the worker.
    for (const socket of this.leaving.abandon()) (socket as { close(): void }).close();
    this.usage = undefined;
    const restarting = !this.stopping && !(this.failFast && !this.everReady);
    this.events.exited(this, worker.process.pid, restarting);
    if (this.stopping) {
      this.log.info({ generation: this.generation, group: this.group, worker: worker.process.pid, code, signal }, 'worker exited');
      return this.lifecycle.stopped(this);
    }
    if (this.failFast && !this.everReady) {
      this.log.error({ generation: this.generation, group: this.group, worker: worker.process.pid, code, signal }, 'new worker died before it was ready');
      return this.lifecycle.failed(this, `worker of group ${this.group} exited (${signal ?? `code ${code}`}) before it was ready`);
    }
    const delay = this.backoff.next(Date.now() - this.startedAt);
    this.log.error({ generation: this.generation, group: this.group, worker: worker.process.pid, code, signal, restartInMs: delay }, 'worker died: restarting it');
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.start();
    }, delay);
  }

  /** Every thread's counters (`counters`: without the oldest sessions); `undefined` when the worker is gone or too slow to answer. */
  snapshot(counters = false): Promise<ThreadSnapshot[] | undefined> {
    const worker = this.worker;
    if (worker === undefined || !this.ready) return Promise.resolve(undefined);
    const ref = this.nextSnapshot++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer(undefined), SNAPSHOT_TIMEOUT_MS);
      const answer = (threads: ThreadSnapshot[] | undefined): void => {
        clearTimeout(timer);
        this.snapshots.delete(ref);
        resolve(threads);
      };
      this.snapshots.set(ref, answer);
      this.send(worker, { type: 'snapshot', ref, ...(counters && { counters }) });
    });
  }

  /** The body for the worker's `stats` request `ref`. */
  answerStats(ref: number, body: string): void {
    if (this.worker !== undefined) this.send(this.worker, { type: 'statsAnswer', ref, body });
  }

  /** Sends the server settings, health and addresses in force again, after one of them changed. */
  pushServers(): void {
    if (this.worker !== undefined && this.equipped) this.send(this.worker, { type: 'servers', ...this.events.servers(this.config) });
  }

  /** Passes a session or flow from an older generation on to this worker; `sent` says whether its sockets left. */
  adopt(handOver: HandOver, sockets: readonly object[], sent: (ok: boolean) => void): void {
    const worker = this.worker;
    if (worker === undefined || !this.everReady || !worker.isConnected()) return sent(false);
    sendParts(handOver, sockets, (msg, socket, done) => worker.send(msg, socket as SendHandle, done), (err) => sent(err === null));
  }

  private send(worker: Worker, msg: ToWorker, handle?: object): void {
    if (!worker.isConnected()) return;
    worker.send(msg, handle as SendHandle | undefined);
  }
}
