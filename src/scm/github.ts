/**
 * The SCM port's GitHub implementation: what the App reads from and writes to one repository
 * through the REST API, as an installation. Octokit's errors are translated here, at the edge:
 * a 5xx or a rate limit is a retryable `KW_GITHUB_THROTTLED`/`KW_GITHUB_FAILED` (Octokit's retry
 * and throttling plugins have already waited and retried by then), a 401/403 `KW_GITHUB_DENIED`.
 *
 * Nothing here logs or returns a secret: file contents are returned to the caller (the policy
 * reader), and what is written (PR bodies, check runs, issues) is masked by the caller and again
 * here, at the last step before it leaves the process.
 */
import type { ProbotOctokit } from 'probot';
import { ErrorCode, KeywardenError } from '../errors.js';
import { maskFoundSecrets } from '../scan/mask-found.js';

export type Octokit = InstanceType<typeof ProbotOctokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface CompareFile {
  filename: string;
  status: string;
  additions: number;
  patch?: string;
  previousFilename?: string;
}

export interface CompareResult {
  files: CompareFile[];
  totalCommits: number;
  commits: number;
  /** GitHub cut the answer (300 files, 250 commits): the git copy must be scanned instead. */
  truncated: boolean;
}

/** GitHub's caps on a compare: files listed and commits listed. */
export const COMPARE_MAX_FILES = 300;
export const COMPARE_MAX_COMMITS = 250;
/** GitHub refuses more annotations than this in one check-run request. */
export const ANNOTATIONS_PER_REQUEST = 50;
const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_BODY = 60_000;

export interface PullRequestInfo {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  headSha: string;
  title: string;
  htmlUrl: string;
}

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  annotations?: Annotation[];
}

/** Translates an Octokit error into a KeywardenError (no body text: it may echo what was sent). */
export function githubError(e: unknown, what: string): KeywardenError {
  if (e instanceof KeywardenError) return e;
  const status = (e as { status?: unknown } | null)?.status;
  const s = typeof status === 'number' ? status : undefined;
  if (s === 401 || (s === 403 && !isRateLimit(e)) || s === 404) {
    return new KeywardenError(ErrorCode.GITHUB_DENIED, `GitHub refused to ${what} (HTTP ${s}). Check the App's permissions and that it is installed on the repository.`, { fault: 'config', retryable: false, details: { status: s } });
  }
  const retryAfter = Number((e as { response?: { headers?: Record<string, unknown> } } | null)?.response?.headers?.['retry-after']);
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 3600) * 1000 : undefined;
  if (s === 429 || (s === 403 && retryAfterMs !== undefined)) {
    return new KeywardenError(ErrorCode.GITHUB_THROTTLED, `GitHub rate-limited the request to ${what}; it is retried later.`, { fault: 'backend', retryable: true, details: { status: s, ...(retryAfterMs ? { retryAfterMs } : {}) } });
  }
  if (s === 422 || s === 400 || s === 409) {
    return new KeywardenError(ErrorCode.GITHUB_FAILED, `GitHub did not accept the request to ${what} (HTTP ${s}).`, { fault: 'internal', retryable: false, details: { status: s } });
  }
  return new KeywardenError(ErrorCode.GITHUB_FAILED, `GitHub failed to ${what}${s ? ` (HTTP ${s})` : ''}; it is retried later.`, { fault: 'backend', retryable: true, ...(s ? { details: { status: s } } : {}) });
}

/** A 403 that is GitHub's (secondary) rate limit, not a refusal. */
function isRateLimit(e: unknown): boolean {
  const r = (e as { response?: { headers?: Record<string, unknown>; data?: unknown } } | null)?.response;
  if (r?.headers?.['retry-after'] !== undefined || r?.headers?.['x-ratelimit-remaining'] === '0') return true;
  const msg = (r?.data as { message?: unknown } | undefined)?.message;
  return typeof msg === 'string' && /rate limit/i.test(msg);
}

const statusOf = (e: unknown): number | undefined => {
  const s = (e as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
};

/** Text that leaves for GitHub: masked once more, and cut to what the API takes. */
function outgoing(text: string, max = MAX_BODY): string {
  const masked = maskFoundSecrets(text.length > max ? `${text.slice(0, max)}\n\n…(cut)` : text);
  return masked.length > max ? `${masked.slice(0, max)}…` : masked;
}

export class GitHubRepo {
  constructor(
    readonly octokit: Octokit,
    readonly ref: RepoRef,
    /** GitHub's caps on a compare (tests lower them, with the fake's). */
    private readonly limits: { files: number; commits: number } = { files: COMPARE_MAX_FILES, commits: COMPARE_MAX_COMMITS },
  ) {}

  get fullName(): string {
    return `${this.ref.owner}/${this.ref.repo}`;
  }

  async compare(base: string, head: string): Promise<CompareResult> {
    try {
      const r = await this.octokit.request('GET /repos/{owner}/{repo}/compare/{basehead}', { ...this.ref, basehead: `${base}...${head}`, per_page: COMPARE_MAX_COMMITS });
      const files: CompareFile[] = (r.data.files ?? []).map((f) => ({
        filename: f.filename,
        status: f.status,
        additions: f.additions,
        ...(f.patch !== undefined ? { patch: f.patch } : {}),
        ...(f.previous_filename ? { previousFilename: f.previous_filename } : {}),
      }));
      const commits = r.data.commits.length;
      return { files, totalCommits: r.data.total_commits, commits, truncated: files.length >= this.limits.files || commits >= this.limits.commits || r.data.total_commits > commits };
    } catch (e) {
      throw githubError(e, 'compare the pushed commits');
    }
  }

  /** A file's text at a ref, or undefined when there is none (404, a folder, a symlink). Bounded. */
  async readFile(path: string, ref: string): Promise<string | undefined> {
    try {
      const r = await this.octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { ...this.ref, path, ref });
      const d = r.data;
      if (Array.isArray(d) || d.type !== 'file' || !('content' in d)) return undefined;
      if (d.size > MAX_CONFIG_BYTES) {
        throw new KeywardenError(ErrorCode.POLICY_TOO_LARGE, `${path} is larger than ${MAX_CONFIG_BYTES} bytes.`, { fault: 'config', location: { file: path } });
      }
      return Buffer.from(d.content, 'base64').toString('utf8');
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw githubError(e, `read ${path}`);
    }
  }

  async findPullRequest(branch: string): Promise<PullRequestInfo | undefined> {
    try {
      const r = await this.octokit.request('GET /repos/{owner}/{repo}/pulls', { ...this.ref, head: `${this.ref.owner}:${branch}`, state: 'all', per_page: 10 });
      const p = r.data.sort((a, b) => b.number - a.number)[0];
      return p ? { number: p.number, state: p.state === 'open' ? 'open' : 'closed', merged: Boolean(p.merged_at), headSha: p.head.sha, title: p.title, htmlUrl: p.html_url } : undefined;
    } catch (e) {
      throw githubError(e, 'list pull requests');
    }
  }

  async openPullRequest(input: { branch: string; base: string; title: string; body: string }): Promise<PullRequestInfo> {
    try {
      const r = await this.octokit.request('POST /repos/{owner}/{repo}/pulls', { ...this.ref, head: input.branch, base: input.base, title: outgoing(input.title, 250), body: outgoing(input.body) });
      return { number: r.data.number, state: 'open', merged: false, headSha: r.data.head.sha, title: r.data.title, htmlUrl: r.data.html_url };
    } catch (e) {
      throw githubError(e, 'open the remediation pull request');
    }
  }

  async updatePullRequest(number: number, input: { title?: string; body?: string }): Promise<void> {
    try {
      await this.octokit.request('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', {
        ...this.ref,
        pull_number: number,
        ...(input.title !== undefined ? { title: outgoing(input.title, 250) } : {}),
        ...(input.body !== undefined ? { body: outgoing(input.body) } : {}),
      });
    } catch (e) {
      throw githubError(e, 'update the remediation pull request');
    }
  }

  /**
   * Creates (or, with `id`, updates) the `keywarden` check run. Annotations go 50 per request, as
   * the API demands; at most `maxAnnotations` in all, the rest are counted in the summary by the caller.
   */
  async writeCheckRun(input: {
    id?: number;
    headSha: string;
    status: 'queued' | 'in_progress' | 'completed';
    conclusion?: 'success' | 'failure' | 'neutral' | 'action_required';
    output: CheckRunOutput;
    actions?: Array<{ label: string; description: string; identifier: string }>;
    externalId?: string;
    /** The check's name: `keywarden` unless said. */
    name?: string;
  }): Promise<number> {
    const annotations = input.output.annotations ?? [];
    const output = (batch: Annotation[]) => ({
      title: outgoing(input.output.title, 250),
      summary: outgoing(input.output.summary),
      ...(input.output.text ? { text: outgoing(input.output.text) } : {}),
      ...(batch.length ? { annotations: batch.map((a) => ({ ...a, message: outgoing(a.message, 4000), ...(a.title ? { title: outgoing(a.title, 250) } : {}) })) } : {}),
    });
    const first = annotations.slice(0, ANNOTATIONS_PER_REQUEST);
    const common = {
      ...this.ref,
      status: input.status,
      ...(input.conclusion ? { conclusion: input.conclusion, completed_at: new Date().toISOString() } : {}),
      ...(input.actions?.length ? { actions: input.actions } : {}),
      ...(input.externalId ? { external_id: input.externalId } : {}),
    };
    let id: number;
    try {
      if (input.id === undefined) {
        const r = await this.octokit.request('POST /repos/{owner}/{repo}/check-runs', { ...common, name: input.name ?? 'keywarden', head_sha: input.headSha, output: output(first) });
        id = Number(r.data.id);
      } else {
        id = input.id;
        await this.octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { ...common, check_run_id: id, output: output(first) });
      }
      for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
        await this.octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { ...this.ref, check_run_id: id, output: output(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST)) });
      }
      return id;
    } catch (e) {
      throw githubError(e, 'write the check run');
    }
  }

  /**
   * The `keywarden` check run on `headSha` with this external id (the newest), if any: an earlier
   * attempt of the same job may have made it before failing.
   */
  async findCheckRun(headSha: string, externalId: string, name = 'keywarden'): Promise<number | undefined> {
    try {
      const r = await this.octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { ...this.ref, ref: headSha, check_name: name, filter: 'all', per_page: 100 });
      const run = r.data.check_runs.filter((c) => c.external_id === externalId).sort((a, b) => Number(b.id) - Number(a.id))[0];
      return run ? Number(run.id) : undefined;
    } catch (e) {
      throw githubError(e, 'list check runs');
    }
  }

  async findIssue(marker: string, state: 'open' | 'all' = 'open'): Promise<{ number: number; state: string } | undefined> {
    try {
      const r = await this.octokit.request('GET /repos/{owner}/{repo}/issues', { ...this.ref, state, labels: 'keywarden', per_page: 100 });
      const i = r.data.find((x) => !x.pull_request && (x.body ?? '').includes(marker));
      return i ? { number: i.number, state: i.state } : undefined;
    } catch (e) {
      throw githubError(e, 'list issues');
    }
  }

  async openIssue(input: { title: string; body: string }): Promise<number> {
    try {
      const r = await this.octokit.request('POST /repos/{owner}/{repo}/issues', { ...this.ref, title: outgoing(input.title, 250), body: outgoing(input.body), labels: ['keywarden'] });
      return r.data.number;
    } catch (e) {
      throw githubError(e, 'open the tracking issue');
    }
  }

  async updateIssue(number: number, input: { body?: string; state?: 'open' | 'closed' }): Promise<void> {
    try {
      await this.octokit.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
        ...this.ref,
        issue_number: number,
        ...(input.body !== undefined ? { body: outgoing(input.body) } : {}),
        ...(input.state ? { state: input.state } : {}),
      });
    } catch (e) {
      throw githubError(e, 'update the tracking issue');
    }
  }

  async comment(issueNumber: number, body: string): Promise<void> {
    try {
      await this.octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...this.ref, issue_number: issueNumber, body: outgoing(body) });
    } catch (e) {
      throw githubError(e, 'comment');
    }
  }

  /** The user's permission on the repository: `admin`, `maintain`, `write`, `triage`, `read` or `none`. */
  async permissionOf(username: string): Promise<string> {
    try {
      const r = await this.octokit.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { ...this.ref, username });
      return r.data.role_name || r.data.permission;
    } catch (e) {
      if (statusOf(e) === 404) return 'none';
      throw githubError(e, 'read a permission');
    }
  }
}
