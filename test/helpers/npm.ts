/** Set by the npm that runs `npm test` for its own command and project; an inner npm must not inherit them. */
const OUTER_NPM = /^npm_(command|lifecycle_\w+|package_\w+|execpath|node_execpath|config_(local_prefix|prefix|global_prefix|user_agent|npm_version))$/i;

/**
 * The environment for an npm command run by a test: this one's without what the outer npm set about
 * itself (npm_config_local_prefix would point the inner npm at this checkout, npm_config_prefix its
 * global installs at the outer one's prefix). The registry, cache and npmrc settings stay.
 */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !OUTER_NPM.test(key)));
  return { ...env, ...extra };
}
