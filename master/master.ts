import cluster from 'node:cluster';
import { join } from 'node:path';
import type { Config } from '../src/config/types';
import type { Logger } from '../src/log';
import { BindError, bindAll, closeReceiver, type BoundReceiver } from './binder';
import { Generation } from './generation';

/**
 * The master: binds every receiver once and keeps it, runs the generation of workers that accept on
 * dups of those sockets, and stops the whole service on SIGTERM or SIGINT. It never accepts a
 * connection itself. Resolves with the process exit code.
 */
export async function runMaster(config: Config, log: Logger): Promise<number> {
  let receivers: BoundReceiver[];
  try {
    receivers = await bindAll(config);
  } catch (err) {
    if (!(err instanceof BindError)) throw err;
    log.fatal({ problems: err.problems }, 'cannot bind: nothing started');
    process.stderr.write(`ferry: cannot start:\n${err.problems.map((p) => `  - ${p}\n`).join('')}`);
    return 1;
  }
  for (const r of receivers) log.info({ frontend: r.frontend, bind: r.bind.text, address: r.address }, 'receiver bound');

  cluster.setupPrimary({ exec: join(__dirname, '..', 'workers', 'worker.js') });
  const generation = new Generation(1, config, receivers, log);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, 'second stop signal: closing every session now');
        return generation.kill();
      }
      stopping = true;
      log.info({ signal, hardStopAfterMs: config.global.hardStopAfter }, 'stopping: no new connections, waiting for sessions to end');
      const done = generation.stop(config.global.hardStopAfter);
      receivers.forEach(closeReceiver);
      void done.then(() => {
        log.info('stopped');
        resolve(0);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    for (const signal of ['SIGHUP', 'SIGUSR2'] as const) {
      process.on(signal, () => log.warn({ signal }, 'reload is not available yet: configuration unchanged'));
    }
    void generation.start().then(() => {
      if (!stopping) log.info({ generation: generation.n, groups: config.global.groups, threads: config.global.threads, pids: generation.slots.map((s) => s.pid) }, 'ready');
    });
  });
}
