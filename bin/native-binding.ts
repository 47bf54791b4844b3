// Imported first by bin/ferry.ts, before anything that loads node-unix-socket, whose native binding
// comes in one package per platform (node-unix-socket-linux-x64-gnu, -linux-arm64-gnu, ...): optional
// dependencies, which npm installs for the platform it runs on and skips, silently, when the registry
// lacks them. node-unix-socket then throws a bare "Cannot find module"; ferry says instead which
// package is missing and stops (status 1), before it reads a configuration or binds anything.

interface Manifest {
  version?: string;
  optionalDependencies?: Record<string, string>;
}

function manifest(): Manifest {
  try {
    return require('node-unix-socket/package.json') as Manifest;
  } catch {
    return {};
  }
}

function problem(): string | undefined {
  try {
    require('node-unix-socket');
    return undefined;
  } catch (err) {
    const here = `${process.platform} ${process.arch}`;
    const message = (err as Error).message ?? String(err);
    const missing = /Cannot find module '(node-unix-socket-[\w.-]+)'/.exec(message)?.[1];
    const { version, optionalDependencies = {} } = manifest();
    const which = version === undefined ? 'node-unix-socket' : `node-unix-socket ${version}`;
    if (missing === undefined) return `ferry: cannot load ${which} here (${here}): ${message.split('\n')[0]}\n`;
    if (!(missing in optionalDependencies)) return `ferry: ${which} has no native binding for ${here} (it would be ${missing}); ferry runs on Linux.\n`;
    return (
      `ferry: node-unix-socket has no native binding here (${here}): the package ${missing} is not installed.\n` +
      `npm installs it as an optional dependency of node-unix-socket, and skips it when the registry lacks it.\n` +
      `Install ${missing}@${optionalDependencies[missing]} from a registry that has it, or build node-unix-socket for this platform.\n`
    );
  }
}

const found = problem();
if (found !== undefined) {
  process.stderr.write(found);
  process.exit(1);
}
