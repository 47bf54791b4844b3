import type { TcpServiceName } from '../config/types';
import { echo } from './echo';
import { hello } from './hello';
import type { Service } from './service';

export type { Service, ServiceContext } from './service';

export { httpServiceOf } from './http-service';
export type { HttpService, HttpServiceState } from './http-service-t';
export { noMaster, type AskMaster } from './stats';
export { StatsRequests } from './stats-requests';

export const services: Record<TcpServiceName, Service> = { echo, hello };
