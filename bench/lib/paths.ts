// Helpers run from the compiled tree, so locate them relative to this file
// (dist/bench/lib) rather than the current directory.

import path from 'node:path';

export const benchDir = path.resolve(__dirname, '..');
export const distDir = path.resolve(benchDir, '..');
export const ferryCli = path.join(distDir, 'bin', 'ferry.js');

export function benchScript(name: string): string {
  return path.join(benchDir, `${name}.js`);
}
