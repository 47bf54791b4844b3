// The configuration used when no file is given: enough to see ferry answer on two ports without
// writing anything. Kept raw so that it goes through the same layering and validation as a file.

export const DEFAULT_CONFIG = {
  global: { groups: 2 },
  frontends: {
    default: { bind: ['127.0.0.1:8080'], mode: 'tcp', backend: 'hello' },
    echo: { bind: ['127.0.0.1:8081'], mode: 'tcp', backend: 'echo' },
  },
  backends: {
    hello: { service: 'hello' },
    echo: { service: 'echo' },
  },
} as const;
