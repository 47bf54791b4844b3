import type { BalanceConfig } from '../../config/types';
import type { Server } from '../server';
import type { Balancer } from './balancer';
import { LeastConn } from './leastconn';
import { RandomDraws } from './random';
import { RequestHash } from './request-hash';
import { RoundRobin } from './roundrobin';
import { SourceHash } from './source';

export type { Balancer, PickContext, RequestKeys } from './balancer';

export function createBalancer(config: BalanceConfig, servers: readonly Server[]): Balancer {
  switch (config.algorithm) {
    case 'roundrobin':
      return new RoundRobin(servers);
    case 'leastconn':
      return new LeastConn(servers);
    case 'source':
      return new SourceHash(servers);
    case 'random':
      return new RandomDraws(servers, config.draws);
    case 'uri':
    case 'hdr':
      return new RequestHash(config, servers);
  }
}
