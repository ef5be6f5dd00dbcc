/**
 * The settings that judge staged changes: the key policy's `secrets:` block and a baseline file,
 * read at HEAD when the repository tracks them.
 *
 * Security property: the same rule as a range's base revision (policy/secrets-at-revision.ts).
 * A staged edit of `.github/keywarden.yml` (`ignore-paths: ["**"]`, `detectors: [none]`) or of
 * the baseline cannot switch off the scan of the commit that stages it: the file is read from
 * HEAD, never from the index or the work tree, and the change is reported as a
 * `KW_POLICY_CHANGED_IN_RANGE` warning. It takes effect once committed. A file neither HEAD nor
 * the index tracks is the operator's own; the caller reads it from disk.
 */
import { DEFAULT_POLICY_FILE } from '../policy/default-file.js';
import { getSecretsConfig } from '../policy/dsl/secrets.js';
import { readPolicy } from '../policy/engine/load.js';
import type { FileAtRevisions, PolicyAtRevision, SecretsAtRevision } from '../policy/secrets-at-revision.js';
import { createGitPolicySource } from '../policy/source.js';
import { resolveStagedBase, stagedChangedPaths, type StagedBase } from '../scan/sources/staged.js';
import type { ScanWarning } from '../scan/types.js';

export interface StagedSettingsBase extends StagedBase {
  repo: string;
  indexFile?: string;
}

/** HEAD and the index of `repo`, resolved once for every settings file. */
export async function resolveStagedSettingsBase(repo: string, indexFile?: string): Promise<StagedSettingsBase> {
  return { repo, ...(await resolveStagedBase(repo)), ...(indexFile ? { indexFile } : {}) };
}

/** Reads a repository file at HEAD, and whether the index changes it. */
export async function readFileAtStaged(s: StagedSettingsBase, file: string): Promise<FileAtRevisions> {
  const base = s.head ? await createGitPolicySource(s.repo, s.head).read(file) : undefined;
  const changed = (await stagedChangedPaths(s.repo, s, [file], s.indexFile ? { indexFile: s.indexFile } : {})).has(file);
  return { base, changed, untracked: base === undefined && !changed };
}

/**
 * @example
 * const { config, warning } = await readSecretsAtStaged(await resolveStagedSettingsBase('.'));
 */
export async function readSecretsAtStaged(s: StagedSettingsBase, file: string = DEFAULT_POLICY_FILE): Promise<SecretsAtRevision> {
  const at = await readPolicyAtStaged(s, file);
  return { config: at.ast ? getSecretsConfig(at.ast) : undefined, untracked: at.untracked, ...(at.warning ? { warning: at.warning } : {}) };
}

/** The whole policy staged changes are judged by: HEAD's (detection settings and decisions alike). */
export async function readPolicyAtStaged(s: StagedSettingsBase, file: string = DEFAULT_POLICY_FILE): Promise<PolicyAtRevision> {
  const at = await readFileAtStaged(s, file);
  const ast = s.head && at.base !== undefined ? await readPolicy(file, { source: createGitPolicySource(s.repo, s.head) }) : undefined;
  if (!at.changed) return { ast, untracked: at.untracked };
  return { ast, untracked: at.untracked, warning: changedInIndex(file, s.head, 'its detection settings and rules') };
}

/** The warning for a settings file the staged changes touch (the code a range's change has). */
export function changedInIndex(file: string, head: string | undefined, what: string): ScanWarning {
  const from = head ? `HEAD (${head.slice(0, 12)})` : 'the built-in defaults (there is no commit yet)';
  return {
    code: 'KW_POLICY_CHANGED_IN_RANGE',
    message: `The staged changes touch ${file}; ${what} were not used for this scan, which used ${from}. They take effect once committed.`,
    file,
  };
}
