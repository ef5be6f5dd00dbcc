/**
 * The pull-request job: the `keywarden` check run. The PR's added lines (`base...head`, as GitHub
 * shows the PR's changes) are pre-checked through the compare API; when anything is found or the
 * compare cannot vouch for every line, the range is fetched (the head as `refs/pull/N/head`, so a
 * fork's PR works too) and the pipeline runs as a **dry run**: it decides and plans, and the check
 * says what the policy demands. Nothing is revoked from a PR check: a push to the repository does
 * that, and for a fork's PR the check's "Revoke & rotate now" button does.
 *
 * A merged remediation PR closes its tracking issue.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import { fetchInto, hasCommit } from '../scm/github-git.js';
import type { PullRequestJob } from './jobs.js';
import { brokenPolicyCheck, checkOutput, issueMarker } from './present.js';
import { checkActions, presentContext } from './run-push.js';
import { RepoWork, type AppServices } from './services.js';

export interface PullRequestOutcome {
  kind: 'checked' | 'policy-broken' | 'issue-closed' | 'skipped';
  conclusion?: string;
  checkRunId?: number;
  findings?: number;
}

export async function runPullRequest(s: AppServices, job: PullRequestJob, attempt = 1): Promise<PullRequestOutcome> {
  const w = await RepoWork.open(s, job, attempt);
  const checkKey = `pr:${job.number}:${job.headSha}`;
  if (job.action === 'closed') {
    if (!job.merged || !job.headRef.startsWith('keywarden/remediate-')) return { kind: 'skipped' };
    const issue = await w.gh.findIssue(issueMarker(job.headRef), 'open');
    if (!issue) return { kind: 'skipped' };
    await w.gh.comment(issue.number, `The fix was merged in #${job.number}; closing.`);
    await w.gh.updateIssue(issue.number, { state: 'closed' });
    return { kind: 'issue-closed' };
  }
  const compared = w.gh.compare(job.baseSha, job.headSha);
  compared.catch(() => undefined);
  const policy = await w.policy();
  const ctx = presentContext(s, w, policy, `#${job.number}`);
  if (policy.error) {
    const checkRunId = await w.writeCheck(checkKey, { headSha: job.headSha, status: 'completed', conclusion: 'failure', output: brokenPolicyCheck(policy.error, policy.from.file ?? '.github/keywarden.yml') });
    return { kind: 'policy-broken', checkRunId, conclusion: 'failure' };
  }
  const pre = await w.preCheck(policy, job.baseSha, job.headSha, compared);
  if (pre.complete && !pre.findings.length) {
    const checkRunId = await w.writeCheck(checkKey, {
      headSha: job.headSha,
      status: 'completed',
      conclusion: 'success',
      output: { title: 'No secrets found', summary: `No secrets in the lines #${job.number} adds (${pre.files} file${pre.files === 1 ? '' : 's'}).` },
    });
    return { kind: 'checked', conclusion: 'success', checkRunId, findings: 0 };
  }
  return w.withMirror(async (dir, remote) => {
    await fetchInto(dir, remote, { branches: [job.defaultBranch, ...(job.fork ? [] : [job.headRef]), ...(job.baseRef ? [job.baseRef] : [])], pulls: [job.number], commits: [job.headSha, job.baseSha] });
    if (!(await hasCommit(dir, job.headSha))) {
      throw new KeywardenError(ErrorCode.GITHUB_FAILED, `The pull request's head ${job.headSha.slice(0, 12)} could not be fetched; retrying later.`, { fault: 'backend', retryable: true });
    }
    const range = (await hasCommit(dir, job.baseSha)) ? `${job.baseSha}...${job.headSha}` : job.headSha;
    const report = await w.respond(dir, { range, policy, dryRun: true, trigger: { kind: 'pull_request', ...(job.baseRef ? { branch: job.baseRef } : {}), sha: job.headSha, pullRequest: job.number } });
    const out = checkOutput(report, ctx);
    const checkRunId = await w.writeCheck(checkKey, { headSha: job.headSha, status: 'completed', conclusion: out.conclusion, output: out.output, ...checkActions(report) });
    return { kind: 'checked' as const, conclusion: out.conclusion, checkRunId, findings: report.findings.length };
  });
}
