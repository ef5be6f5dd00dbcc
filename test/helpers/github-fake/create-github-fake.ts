/**
 * `createGitHubFake()`: GitHub for the App's tests, on loopback. See `server.ts` for what happens
 * to each request, `bare-repo.ts` for the git side, `webhooks.ts` for deliveries.
 *
 * @example
 * const gh = await createGitHubFake();
 * await gh.createRepo('acme', 'api', { files: { 'README.md': 'hi\n' } });
 * const octokit = new ProbotOctokit({ baseUrl: gh.apiUrl, auth: { appId: gh.appId, privateKey: gh.privateKey, installationId: 1 } });
 * const { data } = await octokit.rest.repos.get({ owner: 'acme', repo: 'api' });
 * gh.assertNoViolations();
 * await gh.close();
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appKeys, issueInstallationToken } from './auth.js';
import { BareRepo, createCommitClock, type CommitOptions, ZERO_SHA } from './bare-repo.js';
import { createFaults, type Faults } from './faults.js';
import type { GitRequestRecord } from './git-http.js';
import { addComment as addCommentTo } from './handlers/issues.js';
import { addDeployKey as addDeployKeyTo, type DeployKeyInput } from './handlers/keys.js';
import { closePull as closePullOf, mergePull as mergePullOf, refreshPull } from './handlers/pulls.js';
import type { CompareLimits, FakeCore } from './handlers/types.js';
import { formatViolation, startServer, type RestRequestRecord, type Violation } from './server.js';
import {
  botLogin,
  createState,
  repoKey,
  type AlertLocation,
  type AlertState,
  type CheckRunState,
  type CommentState,
  type DeployKeyState,
  type Permission,
  type RepoState,
} from './state.js';
import { buildPullRequestEvent, buildPushEvent, type PushCommit, type WebhookDelivery, type WebhookRepository } from './webhooks.js';

export interface GitHubFakeOptions {
  /** Default 4242. */
  appId?: number;
  /** Default `keywarden`; the bot user is `<slug>[bot]`. */
  appSlug?: string;
  appName?: string;
  /** The App's private key (PEM). Default: an RSA key generated once per process. */
  privateKey?: string;
  /** GitHub's caps, lowered to reach truncation cheaply. Defaults: 300 files, 250 commits, 1 MiB patch, 3000 PR files. */
  compareLimits?: Partial<CompareLimits>;
  /** Web URL base in responses and payloads. Default `https://github.com`. */
  htmlUrl?: string;
  /** Check every response against the description (a mismatch is a violation). Default true. */
  validateResponses?: boolean;
  /** Unknown query parameters and body fields are violations. Default true. */
  rejectUnknownFields?: boolean;
  /** Status of a violation's answer. Default 500 (Octokit's retry plugin retries it: disable retries in tests or pick 400). */
  violationStatus?: number;
  /** Permissions of new installations (and their tokens). */
  installationPermissions?: Record<string, string>;
}

export interface CreateRepoOptions {
  defaultBranch?: string;
  private?: boolean;
  installationId?: number;
  ownerType?: 'User' | 'Organization';
  /** Files of a first commit on the default branch. */
  files?: Record<string, string | Uint8Array>;
}

/** What tests and the webhook builders need to know about a repository. */
export interface RepoInfo extends Required<Omit<WebhookRepository, 'ownerType'>> {
  installationId: number;
  ownerType: 'User' | 'Organization';
}

export interface SecretScanningAlertInput {
  secret_type: string;
  secret_type_display_name?: string;
  /** Only if the test wants GET to include it; the App must not rely on it. */
  secret?: string;
  validity?: 'active' | 'inactive' | 'unknown';
  locations: AlertLocation[];
}

export interface InstallationTokenOptions {
  permissions?: Record<string, string>;
  /** Repository names the token is limited to. */
  repositories?: string[];
  /** Default one hour; negative for an expired token. */
  ttlMs?: number;
}

/** `gh.pushEvent` input; what is left out is read from git. */
export interface PushEventInput {
  /** Default `refs/heads/<default branch>`. */
  ref?: string;
  /** Default the parent of `after` (all zeros for a root commit). */
  before?: string;
  /** Default the tip of `ref`. */
  after?: string;
  sender?: string;
  /** Default: `before` is not an ancestor of `after`. */
  forced?: boolean;
}

export interface GitHubFake {
  /** The REST base URL: Octokit's `baseUrl`. */
  readonly apiUrl: string;
  readonly appId: number;
  readonly appSlug: string;
  /** `<slug>[bot]`: the author of what installation tokens create. */
  readonly botLogin: string;
  /** PKCS#1 PEM of the App's private key. */
  readonly privateKey: string;
  /** Smart HTTP URL of a repository; with `token`, the credential is in the URL (`x-access-token:<token>@`). */
  gitUrl(owner: string, repo: string, token?: string): string;
  /** Every REST request, in arrival order (git smart HTTP is in `gitRequests`). */
  readonly requests: RestRequestRecord[];
  readonly gitRequests: GitRequestRecord[];
  readonly violations: Violation[];
  /** Throws, listing every violation, when there is any. For `afterEach`. */
  assertNoViolations(): void;
  readonly faults: Faults;
  /** Every credential sent to `POST /credentials/revoke`. */
  readonly revokedCredentials: string[];

  createRepo(owner: string, name: string, options?: CreateRepoOptions): Promise<RepoInfo>;
  repository(owner: string, name: string): RepoInfo;
  /** The fake's state of a repository: pulls, issues, comments, deploy keys, alerts (to inspect). */
  repoState(owner: string, name: string): RepoState;
  commit(owner: string, name: string, options: CommitOptions): Promise<string>;
  /** Moves `branch` to `sha` with no fast-forward check; returns the previous tip. */
  forcePush(owner: string, name: string, options: { branch: string; sha: string }): Promise<string | undefined>;
  deleteBranch(owner: string, name: string, branch: string): Promise<void>;
  readFile(owner: string, name: string, ref: string, file: string): Promise<string | undefined>;
  branches(owner: string, name: string): Promise<Record<string, string>>;
  /** The commit `ref` (a branch, `refs/...`, a sha) names, or undefined. */
  refSha(owner: string, name: string, ref: string): Promise<string | undefined>;

  /** A token as `POST /app/installations/{id}/access_tokens` would issue (for `auth: token`). */
  createInstallationToken(installationId?: number, options?: InstallationTokenOptions): string;
  /** Fast-forwards the base when possible, else makes a merge commit; returns the new base tip. */
  mergePull(owner: string, name: string, number: number): Promise<string>;
  closePull(owner: string, name: string, number: number): Promise<void>;
  /**
   * A pull request from a fork owned by `forkOwner`: the head commit (`files` on top of `parent`)
   * is on no branch of this repository, only at `refs/pull/N/head`, as GitHub keeps a fork's PR.
   */
  openForkPull(owner: string, name: string, options: { forkOwner: string; branch: string; files: Record<string, string>; parent: string; base?: string; title?: string }): Promise<{ number: number; head: string }>;
  /** A comment by someone (default the repository owner), as a human would write it. */
  addComment(owner: string, name: string, number: number, options: { body: string; user?: string }): CommentState;
  addDeployKey(owner: string, name: string, key: DeployKeyInput): DeployKeyState;
  setPermission(owner: string, name: string, user: string, permission: Permission): void;
  /** Returns the alert number. */
  addSecretScanningAlert(owner: string, name: string, alert: SecretScanningAlertInput): number;
  checkRuns(owner: string, name: string): CheckRunState[];

  /** A push delivery with before/after/commits read from git (default: the branch tip and its parent). */
  pushEvent(owner: string, name: string, options?: PushEventInput): Promise<WebhookDelivery>;
  pullRequestEvent(
    owner: string,
    name: string,
    number: number,
    action: 'opened' | 'synchronize' | 'reopened' | 'closed',
    options?: { before?: string; sender?: string },
  ): Promise<WebhookDelivery>;

  /** Stops the server and removes the repositories. */
  close(): Promise<void>;
}

/** Commits a push brought (a new branch: those on no other branch), oldest first, at most 2048 like GitHub. */
async function pushedCommits(repo: RepoState, before: string, after: string): Promise<PushCommit[]> {
  const others = Object.values(await repo.git.branches()).filter((s) => s !== after);
  const range = before === ZERO_SHA ? [after, ...others.map((s) => `^${s}`)] : [`${before}..${after}`];
  const out: PushCommit[] = [];
  for (const c of (await repo.git.log(range)).slice(-2048)) {
    out.push({
      id: c.sha,
      tree_id: c.tree,
      message: c.message,
      timestamp: c.committer.date,
      author: { name: c.author.name, email: c.author.email },
      committer: { name: c.committer.name, email: c.committer.email },
      ...(await repo.git.changedPaths(c.sha)),
    });
  }
  return out;
}

const DEFAULT_PERMISSIONS = {
  administration: 'write',
  checks: 'write',
  contents: 'write',
  issues: 'write',
  metadata: 'read',
  pull_requests: 'write',
  secret_scanning_alerts: 'write',
};

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Starts a GitHub fake on 127.0.0.1 with a fresh temp folder for its repositories. */
export async function createGitHubFake(options: GitHubFakeOptions = {}): Promise<GitHubFake> {
  const keys = appKeys(options.privateKey);
  const state = createState(options.appId ?? 4242, options.appSlug ?? 'keywarden', options.appName ?? 'Keywarden');
  const root = mkdtempSync(path.join(tmpdir(), 'kw-github-fake-'));
  const reposRoot = path.join(root, 'repos');
  const home = path.join(root, 'home');
  const scratch = path.join(root, 'scratch');
  for (const d of [reposRoot, home, scratch]) mkdirSync(d);
  const clock = createCommitClock();
  const requests: RestRequestRecord[] = [];
  const gitRequests: GitRequestRecord[] = [];
  const violations: Violation[] = [];
  const faults = createFaults();
  const core: FakeCore = {
    state,
    api: '',
    html: (options.htmlUrl ?? 'https://github.com').replace(/\/$/, ''),
    gitUrl: (owner, name) => `${core.api}/git/${owner}/${name}.git`,
    limits: { files: 300, commits: 250, patchBytes: 1024 * 1024, pullFiles: 3000, ...options.compareLimits },
    now: isoNow,
  };
  const server = await startServer({
    core,
    publicKey: keys.publicKey,
    faults,
    requests,
    gitRequests,
    violations,
    reposRoot,
    home,
    validateResponses: options.validateResponses ?? true,
    rejectUnknownFields: options.rejectUnknownFields ?? true,
    violationStatus: options.violationStatus ?? 500,
  });
  core.api = server.url;

  const repoOf = (owner: string, name: string): RepoState => {
    const r = state.repos.get(repoKey(owner, name));
    if (!r) throw new Error(`github-fake: no repository ${owner}/${name}; create it with gh.createRepo`);
    return r;
  };
  const ownerType = (r: RepoState): 'User' | 'Organization' => {
    const inst = state.installations.get(r.installationId);
    return inst && inst.account.toLowerCase() === r.owner.toLowerCase() ? inst.accountType : 'User';
  };
  const info = (r: RepoState): RepoInfo => ({
    owner: r.owner,
    name: r.name,
    id: r.id,
    defaultBranch: r.defaultBranch,
    private: r.private,
    cloneUrl: core.gitUrl(r.owner, r.name),
    installationId: r.installationId,
    ownerType: ownerType(r),
  });
  const common = (r: RepoState, sender?: string) => ({
    installationId: r.installationId,
    apiUrl: core.api,
    htmlUrl: core.html,
    ...(sender ? { sender } : {}),
  });

  const gh: GitHubFake = {
    apiUrl: server.url,
    appId: state.appId,
    appSlug: state.appSlug,
    botLogin: botLogin(state),
    privateKey: keys.privateKey,
    gitUrl(owner, name, token) {
      const u = new URL(core.gitUrl(owner, name));
      if (token) {
        u.username = 'x-access-token';
        u.password = token;
      }
      return u.href;
    },
    requests,
    gitRequests,
    violations,
    assertNoViolations() {
      if (violations.length) {
        const list = violations.map((v) => `- ${formatViolation(v)}`).join('\n');
        throw new Error(`The GitHub fake saw ${violations.length} violation(s) of GitHub's REST description:\n${list}`);
      }
    },
    faults,
    revokedCredentials: state.revokedCredentials,

    async createRepo(owner, name, o = {}) {
      const key = repoKey(owner, name);
      if (state.repos.has(key)) throw new Error(`github-fake: ${owner}/${name} exists already`);
      const installationId = o.installationId ?? 1;
      if (!state.installations.has(installationId)) {
        state.installations.set(installationId, {
          id: installationId,
          account: owner,
          accountType: o.ownerType ?? 'Organization',
          permissions: options.installationPermissions ?? DEFAULT_PERMISSIONS,
          events: ['check_run', 'issue_comment', 'pull_request', 'push', 'secret_scanning_alert'],
          createdAt: isoNow(),
        });
      }
      const dir = path.join(reposRoot, owner.toLowerCase(), `${name.toLowerCase()}.git`);
      mkdirSync(path.dirname(dir), { recursive: true });
      const defaultBranch = o.defaultBranch ?? 'main';
      const git = await BareRepo.init(dir, scratch, clock, defaultBranch);
      const repo: RepoState = {
        id: state.nextId(),
        owner,
        name,
        private: o.private ?? true,
        defaultBranch,
        installationId,
        createdAt: isoNow(),
        git,
        nextNumber: 1,
        pulls: new Map(),
        issues: new Map(),
        comments: [],
        deployKeys: new Map(),
        permissions: new Map(),
        alerts: new Map(),
        nextAlertNumber: 1,
      };
      state.repos.set(key, repo);
      if (o.files) await git.commit({ branch: defaultBranch, files: o.files, message: 'Initial commit' });
      return info(repo);
    },
    repository: (owner, name) => info(repoOf(owner, name)),
    repoState: repoOf,
    commit: (owner, name, o) => repoOf(owner, name).git.commit(o),
    async forcePush(owner, name, { branch, sha }) {
      const git = repoOf(owner, name).git;
      const before = await git.branchTip(branch);
      await git.setRef(`refs/heads/${branch}`, sha);
      return before;
    },
    deleteBranch: (owner, name, branch) => repoOf(owner, name).git.deleteRef(`refs/heads/${branch}`),
    async readFile(owner, name, ref, file) {
      return (await repoOf(owner, name).git.file(ref, file))?.data.toString('utf8');
    },
    branches: (owner, name) => repoOf(owner, name).git.branches(),
    async refSha(owner, name, ref) {
      const git = repoOf(owner, name).git;
      return (await git.branchTip(ref)) ?? git.resolve(ref);
    },

    createInstallationToken(installationId = 1, o = {}) {
      if (!state.installations.has(installationId)) throw new Error(`github-fake: no installation ${installationId}`);
      return issueInstallationToken(state, installationId, o).token;
    },
    mergePull: (owner, name, n) => mergePullOf(core, repoOf(owner, name), n),
    closePull: (owner, name, n) => closePullOf(core, repoOf(owner, name), n),
    async openForkPull(owner, name, o) {
      const repo = repoOf(owner, name);
      const scratch = `fake-fork-scratch/${repo.nextNumber}`;
      const head = await repo.git.commit({ branch: scratch, files: o.files, parent: o.parent, message: `Change from ${o.forkOwner}` });
      await repo.git.deleteRef(`refs/heads/${scratch}`);
      const base = o.base ?? repo.defaultBranch;
      const baseSha = (await repo.git.branchTip(base))!;
      const now = core.now();
      const p = {
        number: repo.nextNumber++,
        id: core.state.nextId(),
        title: o.title ?? `Change from ${o.forkOwner}`,
        body: null,
        state: 'open' as const,
        draft: false,
        user: o.forkOwner,
        head: { ref: o.branch, sha: head },
        base: { ref: base, sha: baseSha },
        merged: false,
        merged_at: null,
        merge_commit_sha: null,
        maintainer_can_modify: false,
        fork: o.forkOwner,
        created_at: now,
        updated_at: now,
        closed_at: null,
      };
      repo.pulls.set(p.number, p);
      await refreshPull(repo, p);
      return { number: p.number, head };
    },
    addComment(owner, name, n, { body, user }) {
      const c = addCommentTo(core, repoOf(owner, name), n, body, user ?? owner);
      if (!c) throw new Error(`github-fake: no issue or pull request #${n} in ${owner}/${name}`);
      return c;
    },
    addDeployKey(owner, name, key) {
      const k = addDeployKeyTo(core, repoOf(owner, name), key, owner);
      if ('status' in k) throw new Error(`github-fake: deploy key refused: ${JSON.stringify(k.body)}`);
      return k;
    },
    setPermission(owner, name, user, permission) {
      repoOf(owner, name).permissions.set(user.toLowerCase(), permission);
    },
    addSecretScanningAlert(owner, name, a) {
      const repo = repoOf(owner, name);
      const now = isoNow();
      const alert: AlertState = {
        number: repo.nextAlertNumber++,
        secret_type: a.secret_type,
        secret_type_display_name: a.secret_type_display_name ?? a.secret_type,
        secret: a.secret,
        state: 'open',
        resolution: null,
        resolution_comment: null,
        resolved_at: null,
        resolved_by: null,
        validity: a.validity ?? 'unknown',
        locations: a.locations,
        created_at: now,
        updated_at: now,
      };
      repo.alerts.set(alert.number, alert);
      return alert.number;
    },
    checkRuns(owner, name) {
      const key = repoKey(owner, name);
      return [...state.checkRuns.values()].filter((r) => r.repoKey === key);
    },

    async pushEvent(owner, name, o = {}) {
      const repo = repoOf(owner, name);
      const ref = o.ref ?? `refs/heads/${repo.defaultBranch}`;
      const after = o.after ?? (await repo.git.resolve(ref)) ?? ZERO_SHA;
      const before = o.before ?? (after === ZERO_SHA ? ZERO_SHA : ((await repo.git.log([after], 1))[0]?.parents[0] ?? ZERO_SHA));
      const commits = after === ZERO_SHA ? [] : await pushedCommits(repo, before, after);
      const forced = o.forced ?? (before !== ZERO_SHA && after !== ZERO_SHA && !(await repo.git.isAncestor(before, after)));
      return buildPushEvent({ ...common(repo, o.sender), repository: info(repo), ref, before, after, commits, forced });
    },
    async pullRequestEvent(owner, name, n, action, o = {}) {
      const repo = repoOf(owner, name);
      const p = repo.pulls.get(n);
      if (!p) throw new Error(`github-fake: no pull request #${n} in ${owner}/${name}`);
      const heads = await refreshPull(repo, p);
      return buildPullRequestEvent({
        ...common(repo, o.sender),
        action,
        repository: info(repo),
        number: n,
        head: { ref: p.head.ref, sha: heads.head },
        base: { ref: p.base.ref, sha: heads.base },
        ...(p.fork ? { headOwner: p.fork } : {}),
        title: p.title,
        body: p.body,
        user: p.user,
        ...(o.before ? { before: o.before } : {}),
        ...(action === 'closed' ? { merged: p.merged } : {}),
      });
    },

    async close() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return gh;
}
