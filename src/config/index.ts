// The configuration module's public surface, for code outside src/config.

export { parseBindAddress, parseServerAddress, bindKey, type Parsed, type ServerAddress } from './address';
export { DEFAULT_CONFIG } from './defaults';
export { parseDuration, MAX_TIMER_MS } from './duration';
export { ConfigError, loadConfig, loadConfigOrProblems, type LoadOptions, type LoadResult } from './load';
export { validateConfig, type Validation } from './validate';
export type * from './types';
