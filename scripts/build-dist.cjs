// npm's `prepack` and `prepare` scripts: builds dist/ with the TypeScript compiler when it is there.
//
// - prepare (npm install / npm ci in a checkout): builds when the compiler is installed. Without it,
//   as in `npm ci --omit=dev`, it says that dist/ was not built and succeeds: the compiler is a
//   devDependency, and a production install must not fail for want of it.
// - prepack (npm pack / npm publish): builds, or packs a dist/ built before when the compiler is
//   absent; with neither it fails, since a package without dist/ cannot run. npm runs prepare right
//   after prepack when packing: that prepare has nothing left to do.
//
// A tarball from `npm pack` holds dist/ already, and this script without the sources (no
// tsconfig.json): installing it runs neither script, and were prepare run there, it does nothing.
'use strict';

const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const event = process.env.npm_lifecycle_event === 'prepack' ? 'prepack' : 'prepare';
const packing = ['pack', 'publish'].includes(process.env.npm_command ?? '');

function compiler() {
  try {
    return require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    return undefined;
  }
}

function main() {
  if (!existsSync(join(root, 'tsconfig.json'))) return 0;
  if (event === 'prepare' && packing) return 0;
  const tsc = compiler();
  if (tsc !== undefined) {
    try {
      execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
      return 0;
    } catch {
      process.stderr.write('ferry: the TypeScript build failed (above)\n');
      return 1;
    }
  }
  const built = existsSync(join(root, 'dist', 'bin', 'ferry.js'));
  if (event === 'prepack') {
    if (built) {
      process.stderr.write('ferry: TypeScript is not installed: packing the dist/ built before, as it is\n');
      return 0;
    }
    process.stderr.write(
      'ferry: cannot pack: dist/ is not built and TypeScript, a devDependency, is not installed.\n' +
        'Install with the dev dependencies (npm ci), then npm pack.\n',
    );
    return 1;
  }
  process.stderr.write(
    `ferry: TypeScript, a devDependency, is not installed (--omit=dev?): ${built ? 'dist/ is left as it was built before' : 'dist/ is not built'}.\n` +
      (built ? '' : 'To run ferry from this checkout, install the dev dependencies too (npm ci); or install a packed release (README.md, "Installing").\n'),
  );
  return 0;
}

process.exitCode = main();
