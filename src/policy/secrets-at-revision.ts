/**
 * The settings that judge a git range: the key policy's `secrets:` block (detectors, ignored
 * paths) and a baseline file, when they live in the repository.
 *
 * Security property: for a range, a file of the repository that configures the scan is read at
 * the base revision, never from the pushed commits or the checked-out work tree. A push that
 * rewrites `.github/keywarden.yml` (`detectors: [none]`, a wide `ignore-paths`) or the baseline
 * (accepting its own secret's fingerprint) cannot switch off the scan of that same push; the
 * change is reported as a warning and takes effect once it is on the base branch. `extends:` is
 * read from the same revision through the git policy source (no symlink followed, nothing outside
 * the repository). A file the repository does not track at either end is the operator's own and
 * is read from disk by the caller.
 */
import { DEFAULT_POLICY_FILE } from './default-file.js';
import type { PolicyAst } from './dsl/ast.js';
import { getSecretsConfig, type SecretsConfig } from './dsl/secrets.js';
import { readPolicy } from './engine/load.js';
import { createGitPolicySource, type GitPolicySource } from './source.js';
import type { ScanWarning } from '../scan/types.js';

export interface FileAtRevisions {
  /** The file at the base revision; undefined when absent (or when the range has no base). */
  base: string | undefined;
  /** True when the range adds, changes, removes or replaces (e.g. by a symlink) the file. */
  changed: boolean;
  /** True when neither end tracks the file: it is not part of the repository. */
  untracked: boolean;
}

/** A range's files at both of its ends, looked up together. The head's copy is only compared, never used. */
export interface RangeFiles {
  /** A file at both ends; throws what reading its base copy threw (a symlink, too large). */
  at(file: string): Promise<FileAtRevisions>;
  /** The base revision's files (what `extends:` reads); undefined when the range has no base. */
  readonly base: GitPolicySource | undefined;
}

/**
 * The files of a range at its base and head revisions. `prefetch` names the files the caller
 * will ask for, looked up in one git run per revision (the peers' ignore files, the baseline, the
 * policy: a handful of paths that are usually absent), instead of two or three runs per file.
 */
export async function rangeFiles(repo: string, base: string | undefined, head: string, prefetch: readonly string[] = []): Promise<RangeFiles> {
  const b = base ? createGitPolicySource(repo, base) : undefined;
  const h = createGitPolicySource(repo, head);
  // A failure here (a revision gone) surfaces again, typed, from the read that needs it.
  if (prefetch.length) await Promise.all([b?.prefetch(prefetch), h.prefetch(prefetch)]).catch(() => undefined);
  return {
    base: b,
    async at(file: string): Promise<FileAtRevisions> {
      const baseText = b ? await b.read(file) : undefined;
      let headText: string | undefined | null;
      try {
        headText = await h.read(file);
      } catch {
        headText = null; // refused (a symlink, too large): certainly a change
      }
      return { base: baseText, changed: headText !== baseText, untracked: baseText === undefined && headText === undefined };
    },
  };
}

export interface SecretsAtRevision {
  /** Undefined when the base revision has no policy (built-in defaults apply). */
  config: SecretsConfig | undefined;
  /** Set when the range changes the policy file: the change was not obeyed. */
  warning?: ScanWarning;
  /** Neither end of the range tracks the file. */
  untracked: boolean;
}

/**
 * @example
 * const { config, warning } = await readSecretsAtRevision(repo, range.base, range.head);
 */
export async function readSecretsAtRevision(repo: string, base: string | undefined, head: string, file: string = DEFAULT_POLICY_FILE): Promise<SecretsAtRevision> {
  const at = await readPolicyAtRevision(repo, base, head, file);
  return { config: at.ast ? getSecretsConfig(at.ast) : undefined, untracked: at.untracked, ...(at.warning ? { warning: at.warning } : {}) };
}

export interface PolicyAtRevision {
  /** The whole policy at the base revision; undefined when the base has none. */
  ast: PolicyAst | undefined;
  warning?: ScanWarning;
  untracked: boolean;
}

/** The whole policy a range is judged by: the base revision's (detection settings and decisions alike). */
export async function readPolicyAtRevision(repo: string, base: string | undefined, head: string, file: string = DEFAULT_POLICY_FILE, files?: RangeFiles): Promise<PolicyAtRevision> {
  const range = files ?? (await rangeFiles(repo, base, head));
  const at = await range.at(file);
  const ast = range.base && at.base !== undefined ? await readPolicy(file, { source: range.base }) : undefined;
  if (!at.changed) return { ast, untracked: at.untracked };
  return { ast, untracked: at.untracked, warning: changedInRange(file, base, 'its detection settings and rules') };
}

/** The warning for a configuration file the range changes. */
export function changedInRange(file: string, base: string | undefined, what: string): ScanWarning {
  const from = base ? `the base revision ${base.slice(0, 12)}` : 'the built-in defaults (the range has no base)';
  return {
    code: 'KW_POLICY_CHANGED_IN_RANGE',
    message: `The range changes ${file}; ${what} were not used for this scan, which used ${from}. They take effect once merged.`,
    file,
  };
}
