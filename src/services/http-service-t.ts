// The type of a built-in HTTP service, apart from the code: http-service.ts and stats.ts make them.
import type { Reply } from '../http/reply';
import type { RequestHead } from '../http/request-head';

/** What an HTTP service may know of the thread answering. */
export interface HttpServiceState {
  /** The generation stops or drains: it will take no new connection. */
  readonly stopping: boolean;
}

/**
 * A built-in service in HTTP mode: it answers each request itself, with no server connection, in
 * place of a backend's servers.
 */
export interface HttpService {
  readonly name: string;
  /** A promise where the answer needs the master (stats). */
  reply(req: RequestHead, state: HttpServiceState): Reply | Promise<Reply>;
}
