/**
 * The pull-request job: the `keywarden` check run. The PR's added lines (`base...head`, as GitHub
 * shows the PR's changes) are pre-checked through the compare API; when anything is found or the
 * compare cannot vouch for every line, the range is fetched (the head as `refs/pull/N/head`, so a
 * fork's PR works too) and the pipeline runs as a **dry run**: it decides and plans, and the check
 * says what the policy demands. Nothing is revoked from a PR check: a push to the repository does
 * that, and for a fork's PR the check's "Revoke & rotate now" button does.
 *
 * When the PR adds or changes a configuration file (Terraform, CloudFormation, Kubernetes, …),
 * the check also runs `keywarden check` on the head and annotates the violations in the PR's
 * files (src/app/config-check.ts); any of them fails the check.
 *
 * A merged remediation PR closes its tracking issue.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import { fetchInto, hasCommit } from '../scm/github-git.js';
import type { PullRequestJob } from './jobs.js';
import type { PipelineReport } from '../pipeline/types.js';
import { changedFiles, checkConfigAt, touchesConfig } from './config-check.js';
import { brokenPolicyCheck, checkOutput, issueMarker, withConfigCheck } from './present.js';
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
  const cmp = await compared.catch(() => undefined);
  const configToo = touchesConfig(pre.patches, cmp?.truncated ?? true);
  const secretsClean = pre.complete && !pre.findings.length;
  const cleanOutput = (): ReturnType<typeof checkOutput> => ({
    conclusion: 'success',
    output: { title: 'No secrets found', summary: `No secrets in the lines #${job.number} adds (${pre.files} file${pre.files === 1 ? '' : 's'}).` },
  });
  if (secretsClean && !configToo) {
    const out = cleanOutput();
    const checkRunId = await w.writeCheck(checkKey, { headSha: job.headSha, status: 'completed', conclusion: out.conclusion, output: out.output });
    return { kind: 'checked', conclusion: out.conclusion, checkRunId, findings: 0 };
  }
  return w.withMirror(async (dir, remote) => {
    await fetchInto(dir, remote, { branches: [job.defaultBranch, ...(job.fork ? [] : [job.headRef]), ...(job.baseRef ? [job.baseRef] : [])], pulls: [job.number], commits: [job.headSha, job.baseSha] });
    if (!(await hasCommit(dir, job.headSha))) {
      throw new KeywardenError(ErrorCode.GITHUB_FAILED, `The pull request's head ${job.headSha.slice(0, 12)} could not be fetched; retrying later.`, { fault: 'backend', retryable: true });
    }
    const baseKnown = await hasCommit(dir, job.baseSha);
    const range = baseKnown ? `${job.baseSha}...${job.headSha}` : job.headSha;
    let report: PipelineReport | undefined;
    let out = cleanOutput();
    if (!secretsClean) {
      report = await w.respond(dir, { range, policy, dryRun: true, trigger: { kind: 'pull_request', ...(job.baseRef ? { branch: job.baseRef } : {}), sha: job.headSha, pullRequest: job.number } });
      out = checkOutput(report, ctx);
    }
    if (configToo) {
      // The PR's files: the compare's list when it is whole, else git's.
      const changed = cmp && !cmp.truncated ? new Set(cmp.files.filter((f) => f.status !== 'removed').map((f) => f.filename)) : await changedFiles(dir, baseKnown ? job.baseSha : undefined, job.headSha);
      const cfg = await checkConfigAt(dir, { base: baseKnown ? job.baseSha : undefined, head: job.headSha }, { ast: policy.ast, env: s.env, now: s.clock().toISOString(), changed });
      out = withConfigCheck(out, cfg, ctx);
    }
    const checkRunId = await w.writeCheck(checkKey, { headSha: job.headSha, status: 'completed', conclusion: out.conclusion, output: out.output, ...(report ? checkActions(report) : {}) });
    return { kind: 'checked' as const, conclusion: out.conclusion, checkRunId, findings: report?.findings.length ?? 0 };
  });
}
