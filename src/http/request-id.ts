import { randomBytes } from 'node:crypto';

/**
 * Each thread (a module instance of its own) numbers its requests after a random prefix: ids unique
 * over the threads, the workers and the restarts of a service, with no coordination between them.
 */
const PREFIX = randomBytes(6).toString('hex');
let next = 0;

/** A request's id for the access log, such as "3f9a0c61d2e4-1b": the thread's prefix and its count in base 36. */
export function nextRequestId(): string {
  return `${PREFIX}-${(next++).toString(36)}`;
}
