/**
 * A thread's share of a limit that applies to the whole service: threads share nothing, so each
 * enforces its own part (at least 1, so that no thread is shut out).
 */
export function shareOf(total: number, threads: number): number {
  return Math.max(1, Math.floor(total / threads));
}
