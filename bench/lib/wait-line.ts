// Readiness by log line: ferry only accepts once its workers are up, and it
// says so in its log, which is more honest than a port that merely binds.

import { exitError, type Proc } from './proc';

export function waitForLine(proc: Proc, matches: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onLine = (line: string): void => {
      if (!matches(line)) return;
      finish();
      resolve(line);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${proc.name}: no ${what} within ${timeoutMs} ms\n--- last output ---\n${proc.tail()}`));
    }, timeoutMs);
    let settled = false;
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      proc.lines.off('line', onLine);
    };
    proc.lines.on('line', onLine);
    void proc.exited.then((exit) => {
      if (settled) return;
      finish();
      reject(exitError(proc, `waiting for ${what}`, exit));
    });
  });
}
