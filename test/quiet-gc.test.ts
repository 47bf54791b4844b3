import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AT_MOST, QuietGc } from '../src/lib/quiet-gc';
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
  let collected = false;
  void nextMajorGc().then(() => (collected = true));
  const gc = new QuietGc(20);
  gc.touch();
  gc.touch();
  // Its timer does not hold a process open, and node delivers a collection's entry only when the
  // event loop next wakes: the polling does both.
  await until(() => collected, 'a full collection within 10 s of the last touch', 10_000);
  assert.is(kept, undefined);
  const after = process.memoryUsage().heapUsed;
  assert.ok(after < withGarbage - 8 * 1048576, `heap used ${withGarbage} -> ${after}: the dropped 16 MB stayed`);
});

/** The old space's size and what its objects use of it, in bytes. */
function oldSpace(): { size: number; used: number } {
  const s = getHeapSpaceStatistics().find((each) => each.space_name === 'old_space')!;
  return { size: s.space_size, used: s.space_used_size };
}

test('QuietGc: its collection compacts the old space, giving back pages left half empty', async () => {
  setFlagsFromString('--expose-gc');
  const plainGc = runInNewContext('gc') as () => void;
  // 50 MB of small objects, moved to the old space by full collections; then every other one dropped, and
  // full collections of V8's own kind: every page keeps half, and V8 moves none of them (a page
  // that keeps less, V8 empties on its own after a collection or two).
  let objects = Array.from({ length: 400_000 }, (_, i) => ({ i, s: `s${i}`, a: [i] }));
  plainGc();
  plainGc();
  objects = objects.filter((_, i) => i % 2 === 0);
  for (let i = 0; i < 3; i++) plainGc();
  const before = oldSpace();
  let collected = false;
  void nextMajorGc().then(() => (collected = true));
  new QuietGc(0, 1000, () => 0).touch();
  await until(() => collected, 'the quiet collection', 10_000);
  const after = oldSpace();
  assert.is(objects.length, 200_000);
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  assert.ok(before.size - before.used > 16 * 1048576, `the old space was not fragmented to begin with: ${mb(before.size)} MB for ${mb(before.used)} MB used`);
  assert.ok(after.size - after.used < 4 * 1048576, `the old space kept ${mb(after.size)} MB for ${mb(after.used)} MB used`);
});

/**
 * A young generation of these sizes at each ask (the last one repeats); `asks` counts them and
 * `at` holds when each came (QuietGc asks at the touch and right after each collection).
 */
function youngSizes(...sizes: number[]): { young: () => number; asks: () => number; at: number[] } {
  const at: number[] = [];
  return {
    young: () => sizes[Math.min(at.push(performance.now()) - 1, sizes.length - 1)]!,
    asks: () => at.length,
    at,
  };
}

test('QuietGc: collections go on while the young generation is larger than when the burst began, and stop once it is back', async () => {
  let majors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as PerformanceEntry & { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    // 1 MB at the touch; still 32 MB after the first and second collections, 1 MB after the third.
    const sizes = youngSizes(1, 32, 32, 1);
    new QuietGc(20, 150, sizes.young).touch();
    // Node reports a collection a moment after it ran.
    await until(() => sizes.asks() === 4 && majors >= 3, 'three collections, each followed by a look at the young generation', 5_000);
    // Asked after the first collection and after the third: two waits of 150 ms between (a timer
    // may fire up to 1 ms early).
    assert.ok(sizes.at[3]! - sizes.at[1]! >= 298, `the collections came 150 ms apart, not ${sizes.at[3]! - sizes.at[1]!} ms for two`);
    await new Promise((r) => setTimeout(r, 600));
    assert.is(sizes.asks(), 4, 'no collection once the young generation is back');
  } finally {
    observer.disconnect();
  }
});

test('QuietGc: a young generation that stays large gets AT_MOST collections, no more', async () => {
  const sizes = youngSizes(1, 32);
  new QuietGc(5, 5, sizes.young).touch();
  // Asked at the touch and after each collection but the last, which is the last whatever the answer.
  await until(() => sizes.asks() === AT_MOST, `${AT_MOST} collections`, 5_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.is(sizes.asks(), AT_MOST);
});

test.run();
