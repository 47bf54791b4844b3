import type { BackendConfig } from '../config/types';
import { Reply } from '../http/reply';
import type { RequestHead } from '../http/request-head';
import type { HttpService, HttpServiceState } from './http-service-t';
import { StatsService, type AskMaster } from './stats';

const NO_CACHE = [['Content-Type', 'text/plain'], ['Cache-Control', 'no-store']] as const;

/**
 * Says whether this generation serves: 200 while it does, 503 once it stops or drains, so that a
 * load balancer in front stops sending before ferry stops accepting.
 */
export class HealthService implements HttpService {
  readonly name = 'health';
  private readonly up = new Reply(200, NO_CACHE, 'ok\n');
  private readonly stopping = new Reply(503, NO_CACHE, 'stopping\n');

  reply(_req: RequestHead, state: HttpServiceState): Reply {
    return state.stopping ? this.stopping : this.up;
  }
}

/** The same response to every request, as configured in a backend's `return`. */
export class ReturnService implements HttpService {
  readonly name = 'return';
  private readonly answer: Reply;

  constructor(config: NonNullable<BackendConfig['return']>) {
    this.answer = new Reply(config.status, config.headers, config.body);
  }

  reply(): Reply {
    return this.answer;
  }
}

/** The HTTP service a backend runs, if it runs one; `ask` reaches the master (for stats). */
export function httpServiceOf(config: BackendConfig, ask: AskMaster): HttpService | undefined {
  if (config.return !== undefined) return new ReturnService(config.return);
  if (config.service === 'stats') return new StatsService(ask);
  return config.service === 'health' ? new HealthService() : undefined;
}
