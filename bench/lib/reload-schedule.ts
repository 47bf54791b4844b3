// Reloads on a fixed clock under load, and the wait until the proxy itself
// counts them as done: the reload and reload-storm measurements share both.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ReloadableContender } from '../contenders/contender';

const SETTLE_MS = 5000;

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

async function deliver(contender: ReloadableContender, notes: string[]): Promise<number> {
  try {
    await contender.reload();
    return 1;
  } catch (err) {
    notes.push(`${contender.name}: a reload could not be asked for: ${message(err)}`);
    return 0;
  }
}

/**
 * `count` reloads, at intervalMs, 2 × intervalMs … from now, on a fixed clock so a slow answer to
 * one reload does not push the others back; stops early when `signal` aborts. Resolves to the
 * reloads asked for; a reload that could not be asked for is a note.
 */
export async function reloadOnSchedule(contender: ReloadableContender, count: number, intervalMs: number, signal: AbortSignal, notes: string[]): Promise<number> {
  const started = Date.now();
  let sent = 0;
  for (let i = 1; i <= count; i += 1) {
    try {
      await sleep(Math.max(0, started + i * intervalMs - Date.now()), undefined, { signal });
    } catch {
      break;
    }
    sent += await deliver(contender, notes);
  }
  return sent;
}

/** The last reload may still be starting its workers when the load ends: waits up to 5 s for it. */
export async function settledReloads(contender: ReloadableContender, before: number, sent: number): Promise<number> {
  const deadline = Date.now() + SETTLE_MS;
  let done = (await contender.reloadsDone()) - before;
  while (done < sent && Date.now() < deadline) {
    await sleep(100);
    done = (await contender.reloadsDone()) - before;
  }
  return done;
}
