// A proxy that reloads forks new workers while old ones drain. Each is
// registered for cleanup as soon as it is seen, so neither stop() nor a
// crashing bench leaves a worker behind whose master was killed first.

import { isAlive, killQuietly, trackPid, untrackPid } from './children';
import { childPidsSync } from './tree';

export class Brood {
  private readonly pids = new Set<number>();

  constructor(private readonly parent: number) {}

  /** Call often (after each reload): workers that came and went between calls need no killing. */
  adopt(): void {
    for (const pid of this.pids) {
      if (!isAlive(pid)) this.forget(pid);
    }
    for (const pid of childPidsSync(this.parent)) {
      this.pids.add(pid);
      trackPid(pid);
    }
  }

  /** After the master is gone: whatever it left running would hold ports and CPU in later trials. */
  killSurvivors(): void {
    for (const pid of this.pids) {
      killQuietly(pid);
      this.forget(pid);
    }
  }

  private forget(pid: number): void {
    this.pids.delete(pid);
    untrackPid(pid);
  }
}
