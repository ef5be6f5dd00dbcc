/**
 * The `keywarden` check run's buttons (`requested_action`), honoured only for a user with write
 * or admin permission on the repository (GitHub lets anyone who can see the check click):
 *
 * - **Revoke & rotate now**: the pipeline, for real, over what the pull request adds (or, without
 *   one, what the commit adds to the default branch) — the way a fork's PR, which brings no push
 *   event to the repository, gets its leaked credentials revoked;
 * - **Mark as test key**: a pull request against the default branch that adds an exception for
 *   each finding's fingerprint to `.github/keywarden.yml`, owned by the clicking user, expiring in
 *   30 days. It goes through review like any policy change: the click weakens nothing by itself.
 */
import { parseDocument, isSeq, YAMLSeq } from 'yaml';
import { readFileSync } from 'node:fs';
import { ErrorCode, KeywardenError } from '../errors.js';
import { DEFAULT_POLICY_FILE } from '../policy/default-file.js';
import { commitOnNewBranch } from '../scm/local-git.js';
import { fetchInto, fetchedBranch, hasCommit, pushBranch, remoteBranchTip } from '../scm/github-git.js';
import type { CheckActionJob } from './jobs.js';
import { oneLine } from './present.js';
import { presentContext, respondAndAct, type PushOutcome } from './run-push.js';
import { RepoWork, type AppServices } from './services.js';

export const WRITE_ROLES: ReadonlySet<string> = new Set(['admin', 'maintain', 'write']);
const EXCEPTION_DAYS = 30;

export interface CheckActionOutcome {
  kind: 'refused' | 'responded' | 'exception-pr' | 'nothing';
  detail?: string;
  push?: PushOutcome;
  pr?: number;
}

export async function runCheckAction(s: AppServices, job: CheckActionJob): Promise<CheckActionOutcome> {
  const w = await RepoWork.open(s, job);
  const role = await w.gh.permissionOf(job.requester);
  if (!WRITE_ROLES.has(role)) {
    s.logger.info({ repo: w.fullName, user: job.requester, role }, 'check action refused: no write permission');
    return { kind: 'refused', detail: `${job.requester} has ${role} permission; write or admin is needed` };
  }
  const prNumber = job.pullRequests[0];
  const pr = prNumber ? await pullRequest(w, prNumber) : undefined;
  const policy = await w.policy();
  if (policy.error) return { kind: 'nothing', detail: 'the policy is broken' };
  const ctx = presentContext(s, w, policy, pr ? `#${pr.number}` : job.headSha.slice(0, 12));

  return w.withMirror(async (dir, remote) => {
    await fetchInto(dir, remote, { branches: [job.defaultBranch, ...(pr && !pr.fork ? [pr.headRef] : [])], ...(pr ? { pulls: [pr.number] } : {}), commits: [job.headSha, ...(pr ? [pr.baseSha] : [])] });
    if (!(await hasCommit(dir, job.headSha))) throw new KeywardenError(ErrorCode.GITHUB_FAILED, 'The checked commit could not be fetched; retrying later.', { fault: 'backend', retryable: true });
    const base = pr && (await hasCommit(dir, pr.baseSha)) ? pr.baseSha : await fetchedBranch(dir, job.defaultBranch);
    const range = base && base !== job.headSha ? `${base}...${job.headSha}` : job.headSha;

    if (job.identifier === 'revoke-rotate') {
      // The patch goes to the PR's branch when it lives here; a fork's branch is not ours to push to.
      const branch = pr && !pr.fork ? pr.headRef : undefined;
      const r = await respondAndAct(s, w, { dir, remote }, { range, policy, ctx, ...(branch ? { branch } : {}), sha: job.headSha, receivedAt: job.receivedAt, checkRunId: job.checkRunId, ...(pr ? { pullRequest: pr.number } : {}) });
      return { kind: 'responded', push: r };
    }

    // Mark as test key: the findings' fingerprints, from a dry run over the same range.
    const report = await w.respond(dir, { range, policy, dryRun: true, trigger: { kind: 'pull_request', sha: job.headSha, ...(pr ? { pullRequest: pr.number } : {}) } });
    const fingerprints = [...new Set(report.findings.map((f) => f.finding.fingerprint))];
    if (!fingerprints.length) return { kind: 'nothing', detail: 'no findings to mark' };
    const defaultTip = await fetchedBranch(dir, job.defaultBranch);
    if (!defaultTip) throw new KeywardenError(ErrorCode.GITHUB_FAILED, 'The default branch could not be fetched; retrying later.', { fault: 'backend', retryable: true });
    const current = await w.gh.readFile(DEFAULT_POLICY_FILE, job.defaultBranch);
    const expires = new Date(s.clock().getTime() + EXCEPTION_DAYS * 86_400_000).toISOString().slice(0, 10);
    const text = addExceptions(current ?? defaultPolicyText(), fingerprints, { owner: `${job.requester}@users.noreply.github.com`, expires, reason: `marked as a test key by @${job.requester} from the keywarden check` });
    const branchName = `keywarden/test-key-${fingerprints[0]!.slice(7, 19)}`;
    const c = await commitOnNewBranch(dir, { base: defaultTip, branch: branchName, message: `Keywarden: mark ${fingerprints.length} finding(s) as test keys until ${expires}\n`, changes: [{ path: DEFAULT_POLICY_FILE, content: text }] });
    const existing = await w.gh.findPullRequest(c.branch);
    if (existing?.state === 'open') return { kind: 'exception-pr', pr: existing.number };
    await pushBranch(dir, remote, c.commit, c.branch, await remoteBranchTip(dir, remote, c.branch));
    const opened = await w.gh.openPullRequest({
      branch: c.branch,
      base: job.defaultBranch,
      title: `Keywarden: mark ${fingerprints.length} finding${fingerprints.length === 1 ? '' : 's'} as test key${fingerprints.length === 1 ? '' : 's'} (until ${expires})`,
      body: [
        `@${oneLine(job.requester, 40)} marked ${fingerprints.length === 1 ? 'a finding' : `${fingerprints.length} findings`} of ${ctx.where} as a test key from the \`keywarden\` check.`,
        '',
        `This adds ${fingerprints.length === 1 ? 'an exception' : 'exceptions'} to \`${DEFAULT_POLICY_FILE}\`, owned by them and expiring on ${expires}. Merge it only if the key really is a test key: once merged, Keywarden no longer acts on ${fingerprints.length === 1 ? 'it' : 'them'}.`,
        '',
        ...fingerprints.map((f) => `- \`${f}\``),
      ].join('\n'),
    });
    return { kind: 'exception-pr', pr: opened.number };
  });
}

async function pullRequest(w: RepoWork, n: number): Promise<{ number: number; headRef: string; baseSha: string; fork: boolean } | undefined> {
  try {
    const r = await w.octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: w.job.owner, repo: w.job.repo, pull_number: n });
    return { number: n, headRef: r.data.head.ref, baseSha: r.data.base.sha, fork: r.data.head.repo?.id !== w.job.repoId };
  } catch {
    return undefined;
  }
}

function defaultPolicyText(): string {
  return readFileSync(new URL('../../policies/default.yml', import.meta.url), 'utf8');
}

/** The policy text with exceptions appended (comments and layout kept). */
export function addExceptions(text: string, fingerprints: string[], e: { owner: string; expires: string; reason: string }): string {
  const doc = parseDocument(text);
  let seq = doc.get('exceptions');
  if (!isSeq(seq)) {
    seq = new YAMLSeq();
    doc.set('exceptions', seq);
  }
  for (const fingerprint of fingerprints) (seq as YAMLSeq).add(doc.createNode({ fingerprint, reason: e.reason, owner: e.owner, expires: e.expires }));
  return doc.toString();
}
