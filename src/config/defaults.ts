// The configuration used when no file is given: enough to see ferry answer without writing
// anything. Kept raw so that it goes through the same layering and validation as a file.

export const DEFAULT_CONFIG = {
  global: { groups: 2 },
  frontends: {
    // HTTP, answered by built-in services: /health says whether this generation serves, anything else gets hello.
    default: { bind: ['127.0.0.1:8080'], mode: 'http', rules: [{ if: { pathPrefix: '/health' }, backend: 'health' }], backend: 'hello' },
    echo: { bind: ['127.0.0.1:8081'], mode: 'tcp', backend: 'echo' },
    // The stats page, /stats.json and /metrics (Prometheus), on the loopback only.
    stats: { bind: ['127.0.0.1:8404'], mode: 'http', backend: 'stats' },
  },
  backends: {
    hello: { return: { status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello from ferry\n' } },
    health: { service: 'health' },
    echo: { service: 'echo' },
    stats: { service: 'stats' },
  },
} as const;
