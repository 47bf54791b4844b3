/**
 * Why the proxy refuses a message: the status it answers with and a short reason for the log line.
 * Thrown by the parsers; rare by nature, so an exception costs nothing on the normal path.
 */
export class HttpRefusal extends Error {
  constructor(
    readonly status: 400 | 414 | 431 | 501 | 502 | 505,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function refuse(reason: string): never {
  throw new HttpRefusal(400, reason);
}
