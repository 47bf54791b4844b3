import type { Balance } from '../config/types';
import type { Server } from '../server';
import type { Balancer } from './balancer';
import { LeastConn } from './leastconn';
import { RoundRobin } from './roundrobin';

export type { Balancer } from './balancer';

const algorithms: Record<Balance, new (servers: readonly Server[]) => Balancer> = {
  roundrobin: RoundRobin,
  leastconn: LeastConn,
};

export function createBalancer(algorithm: Balance, servers: readonly Server[]): Balancer {
  return new algorithms[algorithm](servers);
}
