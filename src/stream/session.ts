import type { SessionSnapshot } from '../proto/snapshot';
import type { Detached } from './stream';
import type { Who } from '../proto/termination';

/**
 * What a thread holds per client connection, whatever its mux: a TCP stream, or an HTTP connection
 * with its requests. The thread lists them, reports them, hands them over on reload and kills them.
 */
export interface Session {
  /** It waits for a server slot (it then travels after those that hold one). */
  readonly waiting: boolean;
  describe(): SessionSnapshot;
  /** Takes it off its sockets for the next generation; undefined when it cannot move (it then finishes here). */
  detach(generation: number): Promise<Detached | undefined>;
  /** The next generation holds its sockets now: close this side's copies, without a log line. */
  handedOver(): void;
  /** Finishes what is under way, then closes (a stop without hand-over); absent: it simply runs to its end. */
  stop?(): void;
  /** Ends it now. */
  terminate(who: Who): void;
}
