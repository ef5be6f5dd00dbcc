/**
 * Comment commands on issues and pull requests, honoured only for users with write or admin
 * permission on the repository (anyone who can read a public repository can comment); others get
 * a polite refusal:
 *
 * - `/keywarden rotate <key>`: rotates a managed key (alias or id) of the configured backend,
 *   audited, idempotent per comment — only a key the repository's policy names (`keys:` on the
 *   default branch), so a writer of one repository cannot rotate another team's keys;
 * - `/keywarden rescan`: on a pull request, runs its check again;
 * - `/keywarden explain`: says which policy judges the repository, where it comes from, and what
 *   it demands when a secret leaks.
 */
import { rotateWithFallback } from '../backends/rotate-with-fallback.js';
import { compose } from '../compose.js';
import { isKeywardenError } from '../errors.js';
import { getSecretsConfig } from '../policy/dsl/secrets.js';
import type { CommentJob, PullRequestJob } from './jobs.js';
import { code, oneLine } from './present.js';
import { runPullRequest } from './run-pull-request.js';
import { WRITE_ROLES } from './run-check-action.js';
import { RepoWork, type AppServices } from './services.js';

export interface CommentOutcome {
  kind: 'refused' | 'rotated' | 'rescanned' | 'explained' | 'unknown' | 'failed';
}

export async function runComment(s: AppServices, job: CommentJob): Promise<CommentOutcome> {
  const w = await RepoWork.open(s, job);
  const reply = (text: string): Promise<void> => w.gh.comment(job.issueNumber, text);
  const role = await w.gh.permissionOf(job.author);
  if (!WRITE_ROLES.has(role)) {
    await reply(`Sorry @${oneLine(job.author, 40)}, Keywarden commands are for people with write or admin access to this repository. A maintainer can run it for you.`);
    return { kind: 'refused' };
  }
  switch (job.command) {
    case 'rotate': {
      if (!job.argument) {
        await reply('Usage: `/keywarden rotate <key>` — a key id or alias of the configured backend.');
        return { kind: 'unknown' };
      }
      // A writer of one repository may rotate only keys that repository's policy (default branch) names.
      const policy = await w.policy();
      const named = (policy.ast?.keys ?? []).some((k) => [k.match.alias, k.match.id].some((g) => g !== undefined && globMatch(g, job.argument!)));
      if (!named) {
        await reply(`${code(job.argument, 80)} is not a key this repository's policy names (\`keys:\` in \`.github/keywarden.yml\` on the default branch, by alias or id), so it cannot be rotated from here.`);
        return { kind: 'refused' };
      }
      const c = compose({ cwd: s.stateDir, env: s.env, actor: `app:${w.fullName}:@${job.author}`, policyFile: false, backend: s.backend, stateDir: s.stateDir, clock: s.clock, ...(s.idempotency ? { idempotency: s.idempotency } : {}), ...(s.audit ? { audit: s.audit } : {}) });
      try {
        const opened = await c.backend();
        const r = await rotateWithFallback(opened.backend, job.argument, { idempotencyKey: `comment-${job.repoId}-${job.commentId}`, actor: c.actor, reason: `comment ${job.commentId} on #${job.issueNumber}` });
        const what = r.mode === 'in-place' ? `rotated in place; version ${r.version ?? '?'} is current` : `replaced by ${code(r.newKeyId, 80)}${r.movedAliases.length ? ` (aliases moved: ${r.movedAliases.map((a) => code(a, 80)).join(', ')})` : ''}`;
        await reply(`Done: ${code(job.argument, 80)} ${what}${r.replayed ? ' (already done for this comment)' : ''}. The operation is in the audit log.`);
        return { kind: 'rotated' };
      } catch (e) {
        await reply(`Could not rotate ${code(job.argument, 80)}: ${isKeywardenError(e) ? `${oneLine(e.message, 300)} (${e.code})` : 'internal error'}.`);
        if (isKeywardenError(e) && e.retryable) throw e;
        return { kind: 'failed' };
      } finally {
        await c.close();
      }
    }
    case 'rescan': {
      if (!job.isPullRequest) {
        await reply('`/keywarden rescan` works on pull requests: it runs the `keywarden` check again.');
        return { kind: 'unknown' };
      }
      const pr = await w.octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: job.owner, repo: job.repo, pull_number: job.issueNumber });
      const prJob: PullRequestJob = {
        ...job,
        number: job.issueNumber,
        action: 'synchronize',
        headSha: pr.data.head.sha,
        headRef: pr.data.head.ref,
        baseSha: pr.data.base.sha,
        baseRef: pr.data.base.ref,
        fork: pr.data.head.repo?.id !== job.repoId,
        merged: false,
      };
      const r = await runPullRequest(s, prJob);
      await reply(`Rescanned: the \`keywarden\` check is ${r.conclusion ?? r.kind}${r.findings !== undefined ? ` (${r.findings} finding${r.findings === 1 ? '' : 's'})` : ''}.`);
      return { kind: 'rescanned' };
    }
    case 'explain': {
      const policy = await w.policy({ fresh: true });
      const from =
        policy.from.kind === 'default'
          ? "Keywarden's built-in default policy (this repository has no `.github/keywarden.yml`, and the organisation's `.github` repository has none either)"
          : `${code(policy.from.file ?? '', 100)} from ${policy.from.kind === 'org' ? 'the organisation\'s' : 'this repository\'s'} default branch (${code(policy.from.fullName ?? '', 100)})`;
      const lines = [`This repository is judged by ${from}. Only the default branch counts: a push or pull request cannot change the policy that judges it.`];
      if (policy.error) lines.push('', `⚠️ The policy does not parse: ${oneLine(policy.error.message, 300)} (${policy.error.code}). Until it is fixed, the check fails.`);
      const secrets = policy.ast ? getSecretsConfig(policy.ast) : undefined;
      if (policy.ast) {
        const onLeak = policy.ast.secrets?.onLeak ?? [];
        lines.push('', 'When a secret leaks, it demands:', ...(onLeak.length ? onLeak.map((r) => `- ${r.do.map((d) => code(d, 20)).join(', ')}${r.message ? ` — ${oneLine(r.message, 200)}` : ''}`) : ['- (nothing: no `secrets.on-leak` rule)']));
        if (secrets?.ignorePaths.length) lines.push('', `Ignored paths: ${secrets.ignorePaths.slice(0, 20).map((p) => code(p, 100)).join(', ')}.`);
        if (policy.ast.exceptions.length) lines.push('', `${policy.ast.exceptions.length} exception(s), each with an owner and an expiry date.`);
      } else {
        lines.push('', 'When a secret leaks: revoke it, rotate it, open a pull request that removes it from the code, and fail the check.');
      }
      await reply(lines.join('\n'));
      return { kind: 'explained' };
    }
    default:
      await reply('Keywarden knows `/keywarden rotate <key>`, `/keywarden rescan` and `/keywarden explain`.');
      return { kind: 'unknown' };
  }
}

/** A policy selector's glob: `*` is any run of characters (aliases hold `/`), `?` one character, the rest literal. */
export function globMatch(glob: string, s: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(s);
}
