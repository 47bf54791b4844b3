// A bind's shards: how many SO_REUSEPORT sockets the master opens for it, and which threads accept
// on which one. One shard (the default) is a single socket every thread accepts on.

import { expected, problem, type PathSegment, type Problem } from './problems';
import type { BindAddress, ShardSpec } from './types';

export const SHARDS_EXAMPLE = '"by-thread", "by-group" or a positive integer such as 2';

export function checkShardSpec(value: unknown, at: PathSegment[]): Problem[] {
  if (value === 'by-thread' || value === 'by-group') return [];
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return [];
  return [problem(at, expected(SHARDS_EXAMPLE, value))];
}

/** Only a TCP address can have several sockets bound at once; `global.shards` passes the others by. */
export function shardable(address: BindAddress): boolean {
  return address.kind === 'tcp';
}

/** Why a bind's own `shards` cannot apply, or undefined when it can. */
export function unshardable(address: BindAddress): string | undefined {
  if (address.kind === 'tcp') return undefined;
  if (address.kind === 'udp') return 'UDP binds are not sharded: each flow reaches its owner thread through a socket connected to its client';
  if (address.kind === 'fd') return 'an inherited (socket-activated) socket is one socket, passed by the service manager, and cannot be split into shards';
  return 'Unix and abstract sockets have no SO_REUSEPORT groups and cannot be sharded';
}

export function shardCount(spec: ShardSpec, groups: number, threads: number): number {
  if (spec === 'by-thread') return groups * threads;
  if (spec === 'by-group') return groups;
  return spec;
}

/**
 * The shard thread `thread` of group `group` accepts on. Threads are numbered across groups and
 * split into `count` runs of consecutive threads, so "by-group" gives each group its own shard.
 */
export function shardOf(count: number, groups: number, threads: number, group: number, thread: number): number {
  return Math.floor(((group * threads + thread) * count) / (groups * threads));
}

/** A count above the threads would leave shards no thread accepts on, whose connections would wait forever. */
export function checkShardFit(spec: unknown, groups: number, threads: number, at: PathSegment[]): Problem[] {
  if (typeof spec !== 'number' || spec <= groups * threads) return [];
  return [problem(at, `${spec} shards need ${spec} threads to accept on them, and global.groups × global.threads is ${groups} × ${threads} = ${groups * threads}; lower "shards" or add threads`)];
}
