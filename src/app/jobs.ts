/**
 * What a webhook delivery becomes in the queue: a small job of ids, shas, names and numbers,
 * taken out of the payload by pure functions. A payload is never queued whole: commit messages,
 * PR bodies and comments can hold anything, including a secret, and "a raw secret never reaches
 * the queue" (a comment command keeps only its parsed command word and argument, checked).
 *
 * Each job has a dedupe key: one push is one job (repo + after sha), whichever delivery brought it.
 */
export interface RepoJob {
  installationId: number;
  repoId: number;
  owner: string;
  repo: string;
  private: boolean;
  defaultBranch: string;
  /** When the delivery arrived (ms since the epoch), for the webhook-to-action latency. */
  receivedAt: number;
}

export interface PushJob extends RepoJob {
  ref: string;
  before: string;
  after: string;
  created: boolean;
  forced: boolean;
  /** The push changed the policy file on the default branch: the cached policy is stale. */
  touchesPolicy: boolean;
}

export interface PullRequestJob extends RepoJob {
  number: number;
  action: string;
  headSha: string;
  headRef: string;
  baseSha: string;
  baseRef: string;
  /** The head lives in a fork. */
  fork: boolean;
  merged: boolean;
}

export interface CheckActionJob extends RepoJob {
  checkRunId: number;
  identifier: string;
  headSha: string;
  requester: string;
  pullRequests: number[];
}

export interface CommentJob extends RepoJob {
  issueNumber: number;
  isPullRequest: boolean;
  commentId: number;
  author: string;
  command: 'rotate' | 'rescan' | 'explain' | 'unknown';
  argument?: string;
}

export interface SecretAlertJob extends RepoJob {
  alertNumber: number;
  action: string;
}

export interface RepoScanJob extends RepoJob {
  reason: 'installation' | 'added';
}

/** The drift comparison of one schedule slot (`drift: { every }` in the policy), queued by pushes to the default branch and by itself. */
export interface DriftJob extends RepoJob {
  slot: number;
}

/**
 * `push_scan` is queued by a push job itself: the full scan of a push the pre-check could not
 * clear; `drift` by pushes to the default branch, first scans and the previous drift job.
 */
export type JobKind = 'push' | 'push_scan' | 'pull_request' | 'check_action' | 'comment' | 'secret_alert' | 'repo_scan' | 'drift';

export interface QueuedJob {
  kind: JobKind;
  payload: Record<string, unknown>;
  dedupeKey: string;
  priority?: number;
}

const ZERO = /^0+$/;
const SHA = /^[0-9a-f]{40,64}$/;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) ? v : 0);

function repoOf(payload: Obj, receivedAt: number): RepoJob | undefined {
  const repository = obj(payload.repository);
  const installation = obj(payload.installation);
  const owner = str(obj(repository.owner).login);
  const repo = str(repository.name);
  const installationId = num(installation.id);
  const repoId = num(repository.id);
  if (!owner || !repo || !installationId || !repoId) return undefined;
  return { installationId, repoId, owner, repo, private: repository.private !== false, defaultBranch: str(repository.default_branch) || 'main', receivedAt };
}

/** A comment's command: `/keywarden <word> [arg]` on a line of its own. Anything else: undefined. */
export function parseCommand(body: string): { command: CommentJob['command']; argument?: string } | undefined {
  const m = /^[ \t]*\/keywarden[ \t]+([a-z-]{1,20})(?:[ \t]+([A-Za-z0-9_.:/@-]{1,200}))?[ \t]*$/m.exec(body.slice(0, 65536));
  if (!m) return undefined;
  const word = m[1]!;
  const command = word === 'rotate' || word === 'rescan' || word === 'explain' ? word : 'unknown';
  return { command, ...(m[2] && command === 'rotate' ? { argument: m[2] } : {}) };
}

/** The job a delivery asks for, or undefined when it asks for nothing (the delivery is acknowledged and ignored). */
export function jobFromEvent(name: string, raw: unknown, receivedAt: number): QueuedJob[] {
  const payload = obj(raw);
  const action = str(payload.action);
  if (name === 'installation' || name === 'installation_repositories') return repoScans(name, payload, receivedAt);
  const repo = repoOf(payload, receivedAt);
  if (!repo) return [];
  switch (name) {
    case 'push': {
      const after = str(payload.after);
      const before = str(payload.before);
      const ref = str(payload.ref);
      if (payload.deleted === true || !SHA.test(after) || ZERO.test(after) || !ref.startsWith('refs/')) return [];
      const commits = Array.isArray(payload.commits) ? payload.commits.map(obj) : [];
      const touchesPolicy =
        ref === `refs/heads/${repo.defaultBranch}` &&
        commits.some((c) => ['added', 'modified', 'removed'].some((k) => Array.isArray(c[k]) && (c[k] as unknown[]).some((p) => typeof p === 'string' && p.startsWith('.github/'))));
      const job: PushJob = { ...repo, ref, before: SHA.test(before) ? before : '0'.repeat(40), after, created: payload.created === true || ZERO.test(before), forced: payload.forced === true, touchesPolicy };
      return [{ kind: 'push', payload: { ...job }, dedupeKey: `push:${repo.repoId}:${ref}:${after}` }];
    }
    case 'pull_request': {
      const pr = obj(payload.pull_request);
      const head = obj(pr.head);
      const base = obj(pr.base);
      const number = num(pr.number);
      if (!number || !['opened', 'synchronize', 'reopened', 'closed'].includes(action)) return [];
      const headSha = str(head.sha);
      if (!SHA.test(headSha)) return [];
      const job: PullRequestJob = {
        ...repo,
        number,
        action,
        headSha,
        headRef: str(head.ref),
        baseSha: str(base.sha),
        baseRef: str(base.ref),
        fork: num(obj(head.repo).id) !== repo.repoId,
        merged: pr.merged === true,
      };
      return [{ kind: 'pull_request', payload: { ...job }, dedupeKey: `pr:${repo.repoId}:${number}:${action === 'closed' ? 'closed' : headSha}` }];
    }
    case 'check_run': {
      if (action !== 'requested_action') return [];
      const run = obj(payload.check_run);
      const identifier = str(obj(payload.requested_action).identifier);
      if (str(run.name) !== 'keywarden' || !['revoke-rotate', 'mark-test-key'].includes(identifier)) return [];
      const job: CheckActionJob = {
        ...repo,
        checkRunId: num(run.id),
        identifier,
        headSha: str(run.head_sha),
        requester: str(obj(payload.sender).login),
        pullRequests: (Array.isArray(run.pull_requests) ? run.pull_requests : []).map((p) => num(obj(p).number)).filter(Boolean),
      };
      return [{ kind: 'check_action', payload: { ...job }, dedupeKey: `check:${repo.repoId}:${job.checkRunId}:${identifier}:${str(obj(payload).action)}:${num(obj(payload.sender).id)}:${receivedAt}` }];
    }
    case 'issue_comment': {
      if (action !== 'created') return [];
      const comment = obj(payload.comment);
      const issue = obj(payload.issue);
      const cmd = parseCommand(str(comment.body));
      const author = str(obj(comment.user).login);
      if (!cmd || obj(comment.user).type === 'Bot') return [];
      const job: CommentJob = { ...repo, issueNumber: num(issue.number), isPullRequest: Boolean(issue.pull_request), commentId: num(comment.id), author, ...cmd };
      return [{ kind: 'comment', payload: { ...job }, dedupeKey: `comment:${repo.repoId}:${job.commentId}` }];
    }
    case 'secret_scanning_alert': {
      if (!['created', 'reopened', 'publicly_leaked'].includes(action)) return [];
      const alertNumber = num(obj(payload.alert).number);
      if (!alertNumber) return [];
      const job: SecretAlertJob = { ...repo, alertNumber, action };
      return [{ kind: 'secret_alert', payload: { ...job }, dedupeKey: `alert:${repo.repoId}:${alertNumber}` }];
    }
    default:
      return [];
  }
}

function repoScans(name: string, payload: Obj, receivedAt: number): QueuedJob[] {
  const installationId = num(obj(payload.installation).id);
  const action = str(payload.action);
  const list = name === 'installation' ? (action === 'created' ? payload.repositories : undefined) : action === 'added' ? payload.repositories_added : undefined;
  if (!installationId || !Array.isArray(list)) return [];
  const owner = str(obj(obj(payload.installation).account).login);
  return list.map(obj).flatMap((r) => {
    const fullName = str(r.full_name);
    const repoId = num(r.id);
    const [o, n] = fullName.includes('/') ? fullName.split('/', 2) : [owner, str(r.name)];
    if (!repoId || !o || !n) return [];
    const job: RepoScanJob = { installationId, repoId, owner: o, repo: n, private: r.private !== false, defaultBranch: '', receivedAt, reason: name === 'installation' ? 'installation' : 'added' };
    // Low priority: a 1,000-repository installation must not hold up pushes.
    return [{ kind: 'repo_scan' as const, payload: { ...job }, dedupeKey: `scan:${repoId}:${installationId}`, priority: -10 }];
  });
}
