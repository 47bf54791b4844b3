import type { ServiceName } from '../config/types';
import { echo } from './echo';
import { hello } from './hello';
import type { Service } from './service';

export type { Service, ServiceContext } from './service';

export const services: Record<ServiceName, Service> = { echo, hello };
