/**
 * Where built policy bundles are cached for an environment: `KEYWARDEN_CACHE_DIR` (`off`: no
 * cache), else `$XDG_CACHE_HOME/keywarden/policy`, else `~/.cache/keywarden/policy`.
 *
 * Its own module so that `keywarden check` and `policy` find the cache without loading the
 * composition root (backends, stores, the logger) they do not use.
 */
import { homedir } from 'node:os';
import path from 'node:path';

/** The policy build cache folder for this environment, or false when caching is off. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string | false {
  const v = env.KEYWARDEN_CACHE_DIR;
  if (v === 'off') return false;
  if (v) return path.resolve(v);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(homedir(), '.cache');
  return path.join(base, 'keywarden', 'policy');
}
