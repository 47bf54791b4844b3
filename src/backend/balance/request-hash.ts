import type { BalanceConfig } from '../../config/types';
import { pathEnd, pathStart } from '../../lib/target';
import type { Server } from '../server';
import type { Balancer, PickContext, RequestKeys } from './balancer';
import { keyHash, Rendezvous } from './rendezvous';
import { RoundRobin } from './roundrobin';

/**
 * Request hashing (HTTP mode), consistent and weighted like source hashing: the request's path
 * (`uri`, with the query string for `uri(whole)`) or a header field's value (`hdr(name)`) is the
 * key of a rendezvous choice, so the same key goes to the same server while the servers stay.
 * Requests without the key (no such header) are spread round-robin.
 */
export class RequestHash implements Balancer {
  private readonly scores: Rendezvous;
  private readonly fallback: RoundRobin;
  private readonly key: (req: RequestKeys) => number | undefined;

  constructor(config: Extract<BalanceConfig, { algorithm: 'uri' | 'hdr' }>, servers: readonly Server[]) {
    this.scores = new Rendezvous(servers);
    this.fallback = new RoundRobin(servers);
    this.key = config.algorithm === 'uri' ? (config.whole ? wholeUri : pathOnly) : header(config.header);
  }

  pick(skip: ReadonlySet<Server>, ctx: PickContext): Server | undefined {
    const key = ctx.request === undefined ? undefined : this.key(ctx.request);
    return key === undefined ? this.fallback.pick(skip) : this.scores.pick(key, skip);
  }
}

function pathOnly({ target }: RequestKeys): number {
  const start = pathStart(target);
  return keyHash(target, start, pathEnd(target, start));
}

function wholeUri({ target }: RequestKeys): number {
  return keyHash(target, pathStart(target));
}

function header(name: string): (req: RequestKeys) => number | undefined {
  return ({ fields }) => {
    const value = fields.get(name);
    return value === undefined ? undefined : keyHash(value);
  };
}
