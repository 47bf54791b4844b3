// Request/response over a helper's IPC channel. The bench issues one command
// at a time, so the next message from the helper is the answer.

import { exitError, type Proc } from './proc';

export interface Reply {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

export function request(proc: Proc, message: object, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      proc.child.off('message', onMessage);
    };
    const onMessage = (reply: unknown): void => {
      finish();
      const typed = reply as Reply;
      if (typed.ok) resolve(typed);
      else reject(new Error(`${proc.name}: ${typed.error ?? 'failed'}`));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${proc.name}: no answer to ${JSON.stringify(message)} within ${timeoutMs} ms`));
    }, timeoutMs);
    proc.child.on('message', onMessage);
    void proc.exited.then((exit) => {
      if (settled) return;
      finish();
      reject(exitError(proc, `handling ${JSON.stringify(message)}`, exit));
    });
    proc.child.send(message);
  });
}
