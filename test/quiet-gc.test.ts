import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuietGc } from '../src/lib/quiet-gc';
import { until } from './helpers/layers';

/** Resolves with the `n`th full (mark-compact) collection of this isolate from now. */
function nextMajorGc(n = 1): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const observer = new PerformanceObserver((list) => {
      const major = list.getEntries().filter((e) => (e as PerformanceEntry & { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
      seen += major.length;
      if (seen < n) return;
      observer.disconnect();
      resolve();
    });
    observer.observe({ entryTypes: ['gc'] });
  });
}

test('QuietGc: a full collection follows the last touch, and gives back what was dropped', async () => {
  // Old-space garbage: arrays kept across young collections, then dropped.
  let kept: number[][] | undefined = Array.from({ length: 2000 }, (_, i) => new Array(1000).fill(i));
  const withGarbage = process.memoryUsage().heapUsed;
  kept = undefined;
  const collected = nextMajorGc();
  const gc = new QuietGc(20);
  gc.touch();
  gc.touch();
  // Its timer does not hold a process open; this test's bound does.
  let bound: NodeJS.Timeout | undefined;
  const never = new Promise<never>((_, reject) => (bound = setTimeout(() => reject(new Error('no full collection within 10 s of the last touch')), 10_000)));
  await Promise.race([collected, never]);
  clearTimeout(bound);
  assert.is(kept, undefined);
  const after = process.memoryUsage().heapUsed;
  assert.ok(after < withGarbage - 8 * 1048576, `heap used ${withGarbage} -> ${after}: the dropped 16 MB stayed`);
});

test('QuietGc: a second full collection follows the first, a while later (when V8 gives back a young generation a burst grew)', async () => {
  const times: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as PerformanceEntry & { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) times.push(e.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    new QuietGc(20, 300).touch();
    // V8 may report one collection as two mark-compacts in a row: the second is the one 300 ms on.
    await until(() => times.length >= 2 && times[times.length - 1]! - times[0]! >= 250, 'a second full collection, 300 ms after the first', 3_000);
  } finally {
    observer.disconnect();
  }
  assert.ok(times.length >= 2);
});

test.run();
