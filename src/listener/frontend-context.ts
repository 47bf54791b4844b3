import type { Backend } from '../backend/backend';
import { accessLog, type Logger } from '../log/log';
import type { RequestRouter } from '../stream/request-router-t';
import type { Session, StreamContext } from '../stream/session';
import type { Frontend } from './frontend';

/** What a frontend's context reads of the acceptor that made it, and tells it. */
export interface SessionOwner {
  readonly stopping: boolean;
  /** A session that began now comes from an older generation (counted once in the service's totals). */
  readonly adopting: boolean;
  readonly sessions: Set<Session>;
  release(frontend: Frontend, session: Session): void;
}

/**
 * What every session of one frontend in one thread's stack shares. A class, not an object literal:
 * a literal with a getter gets a shape of its own each time it is made, so after a reload in place
 * the hot paths met a second shape of context and V8 threw their optimised code away; every stack's
 * contexts have this one shape.
 */
export class FrontendContext implements StreamContext {
  readonly access: Logger | undefined;

  constructor(
    readonly frontend: Frontend,
    readonly backend: Backend,
    readonly log: Logger,
    readonly service: StreamContext['service'],
    readonly router: RequestRouter | undefined,
    private readonly owner: SessionOwner,
  ) {
    this.access = accessLog(log);
  }

  get stopping(): boolean {
    return this.owner.stopping;
  }

  began(session: Session): void {
    this.owner.sessions.add(session);
    this.backend.current++;
    this.backend.total++;
    if (this.owner.adopting) this.backend.adopted++;
  }

  replaced(old: Session, next: Session): void {
    this.owner.sessions.delete(old);
    this.owner.sessions.add(next);
  }

  ended(session: Session): void {
    this.backend.current--;
    this.owner.release(this.frontend, session);
  }
}
