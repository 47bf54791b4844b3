// Each trial gets a freshly started proxy. Two runs of the very same proxy
// process can differ by 30% for as long as they live (heap sizing, JIT
// choices, how reads happen to batch), so reusing one process per contender
// would bake one draw of that luck into every round.

import type { Contender } from './contender';
import type { Entry } from './registry';

export async function withContender<T>(entry: Entry, backendPort: number, use: (contender: Contender) => Promise<T>): Promise<T> {
  const contender = await entry.kind.start(entry.name, backendPort);
  try {
    return await use(contender);
  } finally {
    await contender.stop();
  }
}
