import type { Traffic } from '../lib/traffic';
import type { Socket } from 'node:net';
import type { Backend } from '../backend/backend';
import type { FrontendConfig } from '../config/types';
import type { HeadLimits } from '../config/head-limits';
import type { Envelope } from '../proto/envelope';
import type { Logger } from '../log/log';
import type { ServiceContext } from '../services';
import type { RequestRouter } from './request-router-t';
import type { SessionSnapshot } from '../proto/snapshot';
import type { Termination, Who } from '../proto/termination';

/**
 * What a thread holds per client connection, whatever its mux: a TCP stream, or an HTTP connection
 * with its requests. The thread lists them, reports them, hands them over on reload and kills them.
 */
export interface Session {
  /** It waits for a server slot (it then travels after those that hold one). */
  readonly waiting: boolean;
  describe(): SessionSnapshot;
  /** Takes it off its sockets for the next generation; undefined when it cannot move (it then finishes here). */
  handOver(generation: number): Promise<Departure | undefined>;
  /** The next generation holds its sockets now: close this side's copies, without a log line. */
  handedOver(): void;
  /**
   * A reload in place: carries on under the newest stack of the same thread (`to`, asked when it
   * leaves: a busy session waits for its response, and a later reload may have come meanwhile),
   * keeping its sockets and its state, and calls `moved` as it leaves this stack; resolves false
   * when it cannot (it is then handed over, or ends here). Absent: it can only be handed over.
   */
  moveTo?(to: () => SessionTaker, generation: number, moved: () => void): Promise<boolean>;
  /** Finishes what is under way, then closes (a stop without hand-over); absent: it simply runs to its end. */
  stop?(): void;
  /** Ends it now. */
  terminate(who: Who): void;
}

/** What the sessions of a frontend read of it, and the one counter they keep there (listener/frontend.ts). */
export interface StreamFrontend {
  readonly config: FrontendConfig;
  readonly name: string;
  readonly clientTimeout: number;
  /** How large a request head may be (HTTP mode). */
  readonly limits: HeadLimits;
  /** HTTP requests this thread served (or refused) on the frontend. */
  requests: number;
  /** Connections ferry has answered and ended that wait for their client to close (conn/closing.ts). */
  closing: number;
  /** Counts an end other than the normal one. */
  ended(termination: Termination): void;
  readonly traffic: Traffic;
}

/** What takes sessions over in memory: a newer stack's acceptor in the same thread. */
export interface SessionTaker {
  /** Counts `session` in, under the frontend of that name and mode; undefined when there is none, or the stack stops. */
  take(session: Session, frontend: string, mode: string): StreamContext | undefined;
}

/** What a stream needs from the thread that runs it. */
export interface StreamContext {
  readonly frontend: StreamFrontend;
  readonly backend: Backend;
  readonly log: Logger;
  /** The access log (log/log.ts accessLog): undefined when its lines are not written. */
  readonly access: Logger | undefined;
  readonly service: ServiceContext;
  /** HTTP frontends: chooses each request's backend (the frontend's rules). */
  readonly router?: RequestRouter;
  /** The thread stops or drains: its generation takes no new connection. */
  readonly stopping: boolean;
  began(session: Session): void;
  /**
   * A session gave its connection to another (an h2c client's first bytes told h1 it speaks
   * HTTP/2; an upgrade made it a tunnel): the thread holds `next` in its place, still one session.
   */
  replaced(old: Session, next: Session): void;
  /** Called once when the session has ended, whatever the reason. */
  ended(session: Session): void;
}

/** A stream taken off its sockets for the next generation: the raw handles and their envelope. */
export interface Departure {
  envelope: Envelope;
  client: object;
  server?: object;
  /** The sockets the raw handles belong to here: a hand-over inside the thread lets go of them (conn/handles.ts letGo). */
  sockets: Socket[];
}
