// The master leaves V8's optimizing compilers off (master/no-optimizer.ts): a function run hot in a
// process that called it stays unoptimized, where in a process that did not it is optimized.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const MODULE = join(__dirname, '..', 'master', 'no-optimizer.js');

/** V8's optimization status bits of a function called a million times, in a fresh process. */
function statusAfterHotLoop(optimizersOff: boolean): number {
  const script = `
    if (${optimizersOff}) require(${JSON.stringify(MODULE)}).leaveOptimizersOff();
    function add(a, b) { return a + b; }
    let sum = 0;
    for (let i = 0; i < 1e6; i++) sum = add(sum, i);
    process.stdout.write(String(%GetOptimizationStatus(add)));
  `;
  return Number(execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8' }));
}

/** V8's bit for "optimized" in %GetOptimizationStatus (src/runtime/runtime.h, OptimizationStatus). */
const OPTIMIZED = 1 << 4;

test('a hot function is optimized in a plain process, and stays unoptimized once the optimizers are off', () => {
  assert.ok((statusAfterHotLoop(false) & OPTIMIZED) !== 0, 'optimized without the call: the test would not see a difference');
  assert.is(statusAfterHotLoop(true) & OPTIMIZED, 0, 'optimized although the optimizers are off');
});

test.run();
