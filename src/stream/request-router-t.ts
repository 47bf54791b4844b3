// What stream/ knows of an HTTP frontend's router (http/router.ts's Router satisfies it): it only
// carries one in StreamContext for the HTTP muxes, which route their requests with it. A type of
// stream/'s own, so that stream/ does not import http/.
import type { Backend } from '../backend/backend';

/** Chooses the backend of each request of an HTTP frontend (the frontend's rules). */
export interface RequestRouter {
  route(req: RoutedRequest): Backend;
}

/** What routing reads of a request: its target and header fields (http/request-head.ts's RequestHead has them). */
export interface RoutedRequest {
  readonly target: string;
  /** Lower-case names and values in arrival order, and the first value of a name (http/fields.ts's Fields). */
  readonly fields: {
    readonly length: number;
    name(i: number): string;
    value(i: number): string;
    get(name: string): string | undefined;
  };
}
