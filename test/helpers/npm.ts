/**
 * The environment for an npm command run by a test: this one's without the npm_* variables that
 * `npm test` sets (npm_config_local_prefix, npm_config_prefix, npm_command...), which would point
 * the inner npm at this checkout or at the outer command.
 */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, ...extra };
}
