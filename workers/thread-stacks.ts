import type { Config } from '../src/config/types';
import type { FromThread, SocketRef, ToThread } from '../src/proto/ipc';
import { OLDEST_SESSIONS, type StackSnapshot, type ThreadHolds, type ThreadSnapshot } from '../src/proto/snapshot';
import { QuietGc } from '../src/lib/quiet-gc';
import type { ThreadStack } from './stack';

/** Builds one generation's stack for this thread; `up` is how that stack reports. */
export type MakeStack = (config: Config, generation: number, up: (msg: FromThread, sockets?: object[]) => void) => ThreadStack;

/**
 * One thread's stacks: the generation that serves, and older ones that a reload in place stopped and
 * that still finish sessions which could not move. A newer generation's stack takes the older's
 * sessions in memory; the thread reports each older stack once it has drained (`retired`), and
 * `drained` once its last stack has.
 */
export class ThreadStacks {
  /** Oldest first. */
  private readonly stacks: ThreadStack[] = [];
  /** Gives back, once reloads stop, what the retired stacks left in this thread's heap. */
  private readonly quietGc = new QuietGc();

  constructor(
    config: Config,
    generation: number,
    private readonly make: MakeStack,
    private readonly up: (msg: FromThread, sockets?: object[]) => void,
  ) {
    this.stacks.push(this.build(config, generation));
  }

  /** The stack that serves: the newest one not stopped, else the newest. */
  get current(): ThreadStack {
    return newest(this.stacks, (s) => !s.stopped) ?? this.stacks[this.stacks.length - 1];
  }

  handle(msg: ToThread, sockets: readonly SocketRef[] = []): void {
    switch (msg.type) {
      case 'reconfigure':
        return this.reconfigure(msg, sockets);
      case 'stop':
        return this.stop(msg.handOver, msg.generation);
      case 'kill':
        for (const stack of this.of(msg.generation)) stack.handle(msg);
        return;
      case 'servers':
        for (const stack of this.stacks) stack.settle(msg);
        return;
      case 'statsAnswer':
        // The stack that asked may be an older one, finishing its sessions.
        for (const stack of this.stacks) stack.handle(msg);
        return;
      case 'snapshot':
        return this.up({ type: 'snapshot', ref: msg.ref, data: this.snapshot(msg.counters) });
      default:
        this.current.handle(msg, sockets);
    }
  }

  private build(config: Config, generation: number): ThreadStack {
    const stack: ThreadStack = this.make(config, generation, (msg, sockets) => this.fromStack(stack, msg, sockets));
    return stack;
  }

  /** A newer generation's stack beside the serving one; it reports `ready` (or `failed`) as a first stack does. */
  private reconfigure(msg: Extract<ToThread, { type: 'reconfigure' }>, sockets: readonly SocketRef[]): void {
    const stack = this.build(msg.config, msg.generation);
    this.stacks.push(stack);
    stack.settle(msg.servers);
    stack.start(new Map(msg.receivers.map((id, i) => [id, sockets[i]])));
  }

  /**
   * Without a generation, every stack stops (the worker process stops or hands over to a new one).
   * With one, that generation's stack stops and hands its sessions over to the newest other stack:
   * forward after a reload in place, or back when the master gives up on the newer generation.
   */
  private stop(handOver: boolean, generation: number | undefined): void {
    if (generation === undefined) {
      for (const stack of this.stacks) stack.handle({ type: 'stop', handOver });
      return;
    }
    const stack = this.stacks.find((s) => s.generation === generation);
    const successor = newest(this.stacks, (s) => s !== stack && !s.stopped);
    // A worker restarted since that generation's reload never ran its stack: nothing to wait for.
    if (stack === undefined) return this.up({ type: 'retired', generation, handedOver: 0 });
    if (stack.stopped) return;
    if (handOver && successor !== undefined) stack.retire(() => newest(this.stacks, (s) => s !== stack && !s.stopped) ?? successor);
    else stack.handle({ type: 'stop', handOver: false });
  }

  private of(generation: number | undefined): ThreadStack[] {
    return generation === undefined ? [...this.stacks] : this.stacks.filter((s) => s.generation === generation);
  }

  /** An older stack that drained leaves; the thread has drained when its last stack has. */
  private fromStack(stack: ThreadStack, msg: FromThread, sockets?: object[]): void {
    if (msg.type !== 'drained') return this.up(msg, sockets);
    // Its last counters go up before it leaves: the master folds them into the service's totals.
    this.up({ type: 'counters', data: stack.snapshot(true), last: this.stacks.length === 1 });
    if (this.stacks.length === 1) return this.up(msg, sockets);
    this.stacks.splice(this.stacks.indexOf(stack), 1);
    this.quietGc.touch();
    this.up({ type: 'retired', generation: stack.generation, handedOver: stack.handedOver });
  }

  /** The serving stack's counters; the sessions of older stacks count and list too. */
  private snapshot(counters?: boolean): ThreadSnapshot {
    const current = this.current;
    const [serving, ...older] = [current, ...this.stacks.filter((s) => s !== current)].map((s) => s.snapshot(counters));
    // The master's once-a-second counters poll needs none of it: only `show threads` reads it.
    const holds = counters === true ? undefined : this.holds();
    if (older.length === 0) return { ...serving, holds };
    const mark = (o: StackSnapshot): ThreadSnapshot['oldest'] => o.oldest.map((s) => ({ ...s, generation: o.generation }));
    const oldest = [serving.oldest, ...older.map(mark)].flat().sort((a, b) => a.acceptedAt - b.acceptedAt);
    return { ...serving, sessions: serving.sessions + older.reduce((n, o) => n + o.sessions, 0), oldest: oldest.slice(0, OLDEST_SESSIONS), older, holds };
  }

  private holds(): ThreadHolds {
    const resources: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
    const { heapUsed, heapTotal, rss } = process.memoryUsage();
    return { generations: this.stacks.map((s) => s.generation), resources, heapUsed, heapTotal, rss };
  }
}

function newest(stacks: readonly ThreadStack[], which: (s: ThreadStack) => boolean): ThreadStack | undefined {
  for (let i = stacks.length - 1; i >= 0; i--) if (which(stacks[i])) return stacks[i];
  return undefined;
}
