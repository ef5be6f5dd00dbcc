/**
 * The policy that judges a repository's pushes and pull requests, as the App reads it.
 *
 * Security property: it is read from the repository's **default branch only**, never from the
 * pushed ref or the pull request's head, so a push cannot weaken the policy that judges it. When
 * the repository has no `.github/keywarden.yml`, the organisation's defaults from its `.github`
 * repository apply (Probot's convention), and the built-in default when there is none either. A
 * repository file may start from another repository's with `_extends: <repo>` or
 * `_extends: <owner>/<repo>` (also Probot's convention): that policy is the parent, the file's own
 * settings win (`mergePolicies`, as for the DSL's `extends:`).
 *
 * A policy that does not parse is returned as `error` (with every problem at its line), so the
 * caller fails the check with it: never a crash, never a silent pass.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import type { PolicyAst } from '../policy/dsl/ast.js';
import { mergePolicies } from '../policy/dsl/merge.js';
import { DEFAULT_POLICY_FILE } from '../policy/default-file.js';
import { normalizeSourcePath, type PolicySource } from '../policy/source.js';
import { GitHubRepo, type Octokit } from '../scm/github.js';

export interface RepoPolicy {
  /** Undefined: the built-in default. */
  ast?: PolicyAst;
  /** Where it came from, for messages and links. */
  from: { kind: 'repo' | 'org' | 'default'; fullName?: string; file?: string; ref?: string };
  /** The policy could not be read: the check fails with this. */
  error?: KeywardenError;
}

/** A policy source over one repository at one ref, read through the contents API. */
export function createGitHubPolicySource(gh: GitHubRepo, ref: string, rewrite?: (rel: string, text: string) => string): PolicySource {
  const name = `github:${gh.fullName}@${ref}`;
  return {
    name,
    async read(relPath: string): Promise<string | undefined> {
      const rel = normalizeSourcePath(relPath, name);
      const text = await gh.readFile(rel, ref);
      return text === undefined || !rewrite ? text : rewrite(rel, text);
    },
  };
}

/** `_extends: X` at the top level of a YAML text: the value, and the text with that line blanked (lines keep their numbers). */
export function takeProbotExtends(text: string): { value?: string; text: string } {
  const m = /^_extends:[ \t]*["']?([^"'\s#]+)["']?[ \t]*(?:#.*)?$/m.exec(text);
  if (!m) return { text };
  return { value: m[1]!, text: text.slice(0, m.index) + '#'.padEnd(m[0].length, ' ') + text.slice(m.index + m[0].length) };
}

const REPO_NAME = /^(?:([A-Za-z0-9_.-]{1,100})\/)?([A-Za-z0-9_.-]{1,100})(?::([^\s]+))?$/;

export interface ReadRepoPolicyOptions {
  file?: string;
  /**
   * Wraps the read of the organisation's policy (its `.github` repository), which every
   * repository without its own shares: the App caches it per organisation.
   */
  org?: (owner: string, read: () => Promise<RepoPolicy>) => Promise<RepoPolicy>;
}

export async function readRepoPolicy(octokit: Octokit, repo: { owner: string; repo: string; defaultBranch: string }, options: ReadRepoPolicyOptions = {}): Promise<RepoPolicy> {
  const file = options.file ?? DEFAULT_POLICY_FILE;
  const { readPolicy } = await import('../policy/engine/load.js');
  const own = new GitHubRepo(octokit, { owner: repo.owner, repo: repo.repo });
  let extendsValue: string | undefined;
  const source = createGitHubPolicySource(own, repo.defaultBranch, (rel, text) => {
    if (rel !== file) return text;
    const t = takeProbotExtends(text);
    extendsValue = t.value;
    return t.text;
  });
  try {
    let ast: PolicyAst;
    try {
      ast = await readPolicy(file, { source });
    } catch (e) {
      if (!(e instanceof KeywardenError) || e.code !== ErrorCode.PATH_NOT_FOUND) throw e;
      // No policy in the repository: the organisation's, from its `.github` repository.
      if (repo.repo === '.github') return { from: { kind: 'default' } };
      const readOrg = async (): Promise<RepoPolicy> => {
        const org = new GitHubRepo(octokit, { owner: repo.owner, repo: '.github' });
        try {
          const orgAst = await readPolicy(file, { source: createGitHubPolicySource(org, 'HEAD') });
          return { ast: orgAst, from: { kind: 'org', fullName: org.fullName, file, ref: 'HEAD' } };
        } catch (e2) {
          if (e2 instanceof KeywardenError && (e2.code === ErrorCode.PATH_NOT_FOUND || e2.code === ErrorCode.GITHUB_DENIED)) return { from: { kind: 'default' } };
          throw e2;
        }
      };
      return await (options.org ? options.org(repo.owner, readOrg) : readOrg());
    }
    if (extendsValue !== undefined) {
      const m = REPO_NAME.exec(extendsValue);
      if (!m) {
        throw new KeywardenError(ErrorCode.POLICY_EXTENDS, `\`_extends: ${extendsValue.slice(0, 100)}\` does not name a repository (name, owner/name or owner/name:path).`, { fault: 'config', location: { file, line: 1, column: 1 } });
      }
      const parentRepo = new GitHubRepo(octokit, { owner: m[1] ?? repo.owner, repo: m[2]! });
      const parent = await readPolicy(m[3] ?? file, { source: createGitHubPolicySource(parentRepo, 'HEAD') });
      ast = mergePolicies(parent, ast);
    }
    return { ast, from: { kind: 'repo', fullName: own.fullName, file, ref: repo.defaultBranch } };
  } catch (e) {
    if (e instanceof KeywardenError && !e.code.startsWith('KW_GITHUB_') && (e.fault === 'config' || e.fault === 'user')) return { from: { kind: 'repo', fullName: own.fullName, file, ref: repo.defaultBranch }, error: e };
    throw e;
  }
}
