/**
 * The remediation pull request, deduplicated the way Renovate does: the branch name identifies
 * it (`keywarden/remediate-<fingerprint>`: the same leak gives the same branch), and
 * - no pull request for the branch yet → the branch is pushed and one is opened;
 * - an open one → the branch is updated (pushed with a lease on its current tip, so a commit
 *   someone added to it is never overwritten) and its body refreshed, instead of opening another;
 * - a closed, unmerged one → the team chose to handle it otherwise: recorded, not reopened,
 *   nothing pushed;
 * - a merged one with the same leak again → a new pull request.
 */
import { pushBranch, remoteBranchTip, type GitRemote } from '../scm/github-git.js';
import type { GitHubRepo, PullRequestInfo } from '../scm/github.js';
import type { PipelineReport } from '../pipeline/types.js';
import { remediationBody, remediationTitle, type PresentContext } from './present.js';

export type RemediationOutcome =
  | { kind: 'opened' | 'updated' | 'unchanged'; pr: PullRequestInfo }
  | { kind: 'ignored'; pr: PullRequestInfo };

export async function upsertRemediationPr(
  gh: GitHubRepo,
  git: { dir: string; remote: GitRemote },
  input: { report: PipelineReport; branch: string; commit: string; base: string; ctx: PresentContext },
): Promise<RemediationOutcome> {
  const existing = await gh.findPullRequest(input.branch);
  const title = remediationTitle(input.report);
  const body = remediationBody(input.report, input.ctx);
  if (existing && existing.state === 'closed' && !existing.merged) return { kind: 'ignored', pr: existing };
  if (existing && existing.state === 'open') {
    if (existing.headSha === input.commit) return { kind: 'unchanged', pr: existing };
    await pushBranch(git.dir, git.remote, input.commit, input.branch, existing.headSha);
    await gh.updatePullRequest(existing.number, { body });
    return { kind: 'updated', pr: { ...existing, headSha: input.commit } };
  }
  // None yet, or merged earlier: the branch may still exist (after a merge, or a run that pushed and stopped before opening the PR).
  const tip = await remoteBranchTip(git.dir, git.remote, input.branch);
  if (tip !== input.commit) await pushBranch(git.dir, git.remote, input.commit, input.branch, tip);
  const pr = await gh.openPullRequest({ branch: input.branch, base: input.base, title, body });
  return { kind: 'opened', pr };
}
