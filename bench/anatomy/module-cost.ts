// Preloaded (node -r) into a process that loads ferry's worker modules: the CPU each loaded file
// costs, compiling and running its top level, less the files it loads in turn, grouped by package
// (node_modules/NAME) or by ferry's folder (ferry:src/http …). At exit it prints one JSON line:
// the CPU at preload (Node's own boot), the CPU at exit, and the groups, µs.

import Module from 'node:module';

type Compile = (this: unknown, content: string, filename: string) => unknown;

interface ModuleInternals {
  prototype: { _compile: Compile };
}

function cpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function groupOf(file: string): string {
  const pkg = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
  if (pkg !== null) return pkg[1]!;
  const dist = file.split(/[\\/]dist[\\/]/)[1];
  return dist === undefined ? file : `ferry:${dist.split(/[\\/]/).slice(0, 2).join('/')}`;
}

const bootUs = cpuUs();
const internals = Module as unknown as ModuleInternals;
const compile = internals.prototype._compile;
const nested: number[] = [];
const groups = new Map<string, { us: number; files: number }>();

internals.prototype._compile = function (this: unknown, content: string, filename: string): unknown {
  const start = cpuUs();
  nested.push(0);
  try {
    return compile.call(this, content, filename);
  } finally {
    const total = cpuUs() - start;
    const inner = nested.pop()!;
    if (nested.length > 0) nested[nested.length - 1]! += total;
    const group = groups.get(groupOf(filename)) ?? { us: 0, files: 0 };
    group.us += total - inner;
    group.files += 1;
    groups.set(groupOf(filename), group);
  }
};

process.on('exit', () => {
  process.stdout.write(`${JSON.stringify({ bootUs, totalUs: cpuUs(), groups: Object.fromEntries(groups) })}\n`);
});
