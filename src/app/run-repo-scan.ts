/**
 * The first scan of a repository the App was installed on (or that was added to the
 * installation): the whole tree of its default branch, through the same pipeline as a push — a
 * leaked credential there is revoked and rotated, and the remediation PR goes to the default
 * branch. Queued at low priority and spaced out (`createKeywardenApp`), so a 1,000-repository
 * installation does not exhaust its 5,000 requests an hour or hold up pushes: a clean repository
 * costs one REST call (`GET /repos/{owner}/{repo}`) and one fetch.
 */
import { githubError } from '../scm/github.js';
import { fetchInto, fetchedBranch, treeAsRange } from '../scm/github-git.js';
import type { RepoScanJob } from './jobs.js';
import { scheduleDrift } from './run-drift.js';
import { presentContext, respondAndAct, type PushOutcome } from './run-push.js';
import { RepoWork, type AppServices } from './services.js';

export async function runRepoScan(s: AppServices, job: RepoScanJob): Promise<PushOutcome> {
  const probe = await RepoWork.open(s, job);
  let meta;
  try {
    meta = (await probe.octokit.request('GET /repos/{owner}/{repo}', { owner: job.owner, repo: job.repo })).data;
  } catch (e) {
    throw githubError(e, 'read the repository');
  }
  if (meta.archived) return { kind: 'skipped' };
  const w = new RepoWork(s, { ...job, defaultBranch: meta.default_branch, private: meta.private }, probe.octokit);
  const policy = await w.policy();
  if (policy.error) return { kind: 'policy-broken' };
  await scheduleDrift(s, w.job, policy.ast, s.clock().getTime());
  const ctx = presentContext(s, w, policy, meta.default_branch);
  return w.withMirror(async (dir, remote) => {
    await fetchInto(dir, remote, { branches: [meta.default_branch] });
    const tip = await fetchedBranch(dir, meta.default_branch);
    if (!tip) return { kind: 'skipped' as const };
    const range = await treeAsRange(dir, tip);
    return respondAndAct(s, w, { dir, remote }, { range, policy, ctx, branch: meta.default_branch, sha: tip, patchBase: tip, receivedAt: job.receivedAt });
  });
}
