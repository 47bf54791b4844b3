// Each trial gets a freshly started proxy. Two runs of the very same proxy
// process can differ by 30% for as long as they live (heap sizing, JIT
// choices, how reads happen to batch), so reusing one process per contender
// would bake one draw of that luck into every round.

import type { Contender, ReloadableContender } from './contender';
import type { Entry } from './registry';

export async function withStarted<C extends Contender, T>(started: Promise<C>, use: (contender: C) => Promise<T>): Promise<T> {
  const contender = await started;
  try {
    return await use(contender);
  } finally {
    await contender.stop();
  }
}

export function withContender<T>(entry: Entry, backendPort: number, use: (contender: Contender) => Promise<T>): Promise<T> {
  return withStarted(entry.kind.start(entry.name, backendPort), use);
}

/** Only for kinds with startReloadable; the reload measurement skips the others. */
export function withReloadable<T>(entry: Entry, backendPort: number, use: (contender: ReloadableContender) => Promise<T>): Promise<T> {
  const kind = entry.kind;
  if (kind.startReloadable === undefined) return Promise.reject(new Error(`${entry.name} cannot reload`));
  return withStarted(kind.startReloadable(entry.name, backendPort), use);
}
