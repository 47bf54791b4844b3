import type { CheckConfig } from '../src/config/types';
import type { CheckResult } from './probe';

/** The last check's outcome, and when it ended (ms since the epoch). */
export type LastCheck = CheckResult & { at: number };

/**
 * One server's health, as the master's checks and the workers' passive reports found it. A server
 * starts UP and the first check decides at once (a dead server is not tried `fall` times first);
 * after that, `fall` failures in a row take it DOWN and `rise` successes in a row bring it back.
 */
export class HealthRecord {
  up = true;
  checks = 0;
  failed = 0;
  last: LastCheck | undefined;
  /** A check or a passive report has spoken: from then on, rise and fall apply. */
  private decided = false;
  /** Results in a row that go against the state: failures while UP, successes while DOWN. */
  private against = 0;

  /** Takes a check's result; returns the reason when it turns the server UP or DOWN. */
  result(r: CheckResult, check: CheckConfig): string | undefined {
    const first = !this.decided;
    this.decided = true;
    this.checks++;
    if (!r.ok) this.failed++;
    this.last = { ...r, at: Date.now() };
    if (r.ok === this.up) {
      this.against = 0;
      return undefined;
    }
    const needed = first ? 1 : this.up ? check.fall : check.rise;
    if (++this.against < needed) return undefined;
    this.up = r.ok;
    this.against = 0;
    return `check: ${r.result} (${first ? 'first check' : `${needed}/${needed}`})`;
  }

  /** A worker's passive detection found the server failing on live traffic. */
  observed(reason: string): string | undefined {
    if (!this.up) return undefined;
    this.up = false;
    this.decided = true;
    this.against = 0;
    return `observed: ${reason}`;
  }
}
