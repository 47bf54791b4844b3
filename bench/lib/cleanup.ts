// One place that runs synchronous teardown however the bench ends (normal
// exit, thrown error, Ctrl-C, SIGTERM, the global deadline), so no proxy,
// backend or load generator outlives it.

type Hook = () => void;

const hooks: Hook[] = [];
let installed = false;
let ran = false;

export function onCleanup(hook: Hook): void {
  hooks.push(hook);
}

export function runCleanup(): void {
  if (ran) return;
  ran = true;
  // Latest first: later resources may depend on earlier ones.
  for (const hook of hooks.slice().reverse()) {
    try {
      hook();
    } catch {
      // Teardown must reach every hook even if one fails.
    }
  }
}

export function installCleanup(deadlineMs: number): void {
  if (installed) return;
  installed = true;
  process.on('exit', runCleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children\n`);
      runCleanup();
      process.exit(130);
    });
  }
  // A wedged child or a hung socket must not keep the bench alive forever.
  setTimeout(() => {
    process.stderr.write(`bench: exceeded ${Math.round(deadlineMs / 1000)} s, aborting\n`);
    runCleanup();
    process.exit(1);
  }, deadlineMs).unref();
}
