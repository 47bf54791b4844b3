// What the master tells every thread about servers (operators' settings, health, resolved
// addresses) and the states they make: plain data that crosses the IPC channel and a MessagePort.
// Types only, apart from the code: backend/server.ts applies them to a thread's servers, master/
// keeps and sends them, proto/ipc.ts and proto/snapshot.ts carry them, and none of these need
// import another's code for them.

/** An operator's say over a server: `enable server`, `drain server`, `disable server`. */
export type AdminState = 'ready' | 'drain' | 'maint';

/**
 * What a server is, as `show stat` and the logs say it. MAINT (an operator turned it off) comes
 * before DOWN (checks or passive detection found it failing), which comes before DRAIN (an
 * operator lets its sessions finish and sends it no new ones).
 */
export type ServerState = 'UP' | 'DOWN' | 'DRAIN' | 'MAINT';

/** An operator's runtime setting of one server (master CLI), which overrides its configuration. */
export interface ServerAdmin {
  backend: string;
  server: string;
  admin: AdminState;
  weight: number;
}

/** What the master's health checks (and passive reports) say of one server. */
export interface ServerHealth {
  backend: string;
  server: string;
  up: boolean;
  /** When it last came back into service (DOWN or MAINT to UP), ms since the epoch: slowstart ramps from there. */
  since: number;
}

/**
 * The address the master found for a server given by host name. `unresolvable` says why the name
 * no longer resolves (the last address found is kept, unused, until it does).
 */
export interface ResolvedAddress {
  backend: string;
  server: string;
  address: string;
  unresolvable?: string;
}

/**
 * Everything the master tells every thread about servers: operators' settings, health and resolved
 * addresses. A server left out of `health` is UP; one left out of the others is as configured.
 */
export interface ServerPush {
  states: ServerAdmin[];
  health: ServerHealth[];
  addresses: ResolvedAddress[];
}
