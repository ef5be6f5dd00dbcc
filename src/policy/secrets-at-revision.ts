/**
 * The detection settings (`secrets:` block of the key policy) that judge a git range.
 *
 * Security property: for a range, the settings come from the base revision, never from the pushed
 * commits. A push that rewrites `.github/keywarden.yml` (`detectors: [none]`, a wide
 * `ignore-paths`) cannot switch off the scan of that same push; the change is reported as a
 * warning and takes effect once it is on the base branch. `extends:` is read from the same
 * revision, through the git policy source (no symlink followed, nothing outside the repository).
 */
import { DEFAULT_POLICY_FILE } from './default-file.js';
import { getSecretsConfig, type SecretsConfig } from './dsl/secrets.js';
import { readPolicy } from './engine/load.js';
import { createGitPolicySource } from './source.js';
import type { ScanWarning } from '../scan/types.js';

export interface SecretsAtRevision {
  /** Undefined when the base revision has no policy (built-in defaults apply). */
  config: SecretsConfig | undefined;
  /** Set when the range changes the policy file: the change was not obeyed. */
  warning?: ScanWarning;
}

/**
 * @example
 * const { config, warning } = await readSecretsAtRevision(repo, range.base, range.head);
 */
export async function readSecretsAtRevision(repo: string, base: string | undefined, head: string, file: string = DEFAULT_POLICY_FILE): Promise<SecretsAtRevision> {
  const baseSource = base ? createGitPolicySource(repo, base) : undefined;
  const baseText = baseSource ? await baseSource.read(file) : undefined;
  const config = baseSource && baseText !== undefined ? getSecretsConfig(await readPolicy(file, { source: baseSource })) : undefined;
  // The head's copy is only compared, never parsed: whatever it holds cannot change this scan.
  let headText: string | undefined | null;
  try {
    headText = await createGitPolicySource(repo, head).read(file);
  } catch {
    headText = null; // refused (a symlink, too large): certainly a change
  }
  if (headText === baseText) return { config };
  const from = base ? `the base revision ${base.slice(0, 12)}` : 'the built-in defaults (the range has no base)';
  return {
    config,
    warning: {
      code: 'KW_POLICY_CHANGED_IN_RANGE',
      message: `The range changes ${file}; its detection settings were not used for this scan, which used ${from}. They take effect once merged.`,
      file,
    },
  };
}
