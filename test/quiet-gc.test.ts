import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QuietGc } from '../src/lib/quiet-gc';

/** Resolves with the next full (mark-compact) collection of this isolate. */
function nextMajorGc(): Promise<void> {
  return new Promise((resolve) => {
    const observer = new PerformanceObserver((list) => {
      const major = list.getEntries().filter((e) => (e as PerformanceEntry & { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
      if (major.length === 0) return;
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

test.run();
