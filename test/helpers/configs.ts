/** A port on 127.0.0.1, a bind address, or a bind object with options. */
type Bind = number | string | object;

/**
 * The configuration most tests need: one frontend "web" on 127.0.0.1 at `ports` (a string is a bind
 * address as it is), in front of one backend "app", with `global` and `frontend` settings laid over the defaults.
 */
export function oneFrontend(ports: Bind | Bind[], backend: object, opts: { global?: object; frontend?: object } = {}): object {
  return {
    global: { groups: 1, ...opts.global },
    frontends: { web: { bind: [ports].flat().map((p) => (typeof p === 'number' ? `127.0.0.1:${p}` : p)), backend: 'app', ...opts.frontend } },
    backends: { app: backend },
  };
}

export const HELLO = { service: 'hello' };
export const ECHO = { service: 'echo' };

/** A backend's `servers` map, each server on 127.0.0.1. */
export function serversAt(...list: [name: string, port: number, weight?: number][]): object {
  return Object.fromEntries(list.map(([name, port, weight]) => [name, { address: `127.0.0.1:${port}`, ...(weight === undefined ? {} : { weight }) }]));
}
