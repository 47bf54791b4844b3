import type { TcpServiceName } from '../config/types';
import { echo } from './echo';
import { hello } from './hello';
import type { Service } from './service';

export type { Service, ServiceContext } from './service';

export { httpServiceOf, type HttpService, type HttpServiceState } from './http-service';

export const services: Record<TcpServiceName, Service> = { echo, hello };
