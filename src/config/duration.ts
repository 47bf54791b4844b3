// Durations in the configuration are either plain milliseconds or a number with a unit suffix.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const DURATION_TEXT = /^(\d+)(ms|s|m|h|d)?$/;

/**
 * Node timers overflow past 2^31-1 ms and then fire after 1 ms instead, so a longer timeout would
 * silently turn into an immediate one.
 */
export const MAX_TIMER_MS = 2_147_483_647;

export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return isMilliseconds(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const match = DURATION_TEXT.exec(v);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? 'ms'];
  return isMilliseconds(ms) ? ms : undefined;
}

function isMilliseconds(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
