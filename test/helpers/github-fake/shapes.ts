/**
 * GitHub's JSON for the fake's state: users, repositories, pull requests, issues, check runs and
 * the rest, with every field the description's response schemas require (the server checks each
 * response against them). API URLs point at the fake, so following a `url` field works; HTML
 * URLs use the configured web base (`https://github.com` by default); `clone_url` is the fake's
 * smart HTTP URL.
 */
import { createHash } from 'node:crypto';
import { userObject } from './webhooks.js';
import type { CommitInfo, FileDiff } from './bare-repo.js';
import {
  botLogin,
  type AlertState,
  type CheckRunState,
  type CommentState,
  type DeployKeyState,
  type FakeState,
  type InstallationState,
  type IssueState,
  type PullState,
  type RepoState,
} from './state.js';

type Json = Record<string, unknown>;

export interface ShapeContext {
  state: FakeState;
  api: string;
  html: string;
  gitUrl(owner: string, name: string): string;
}

export function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`0:${kind}${id}`).toString('base64').replace(/=+$/, '');
}

export function userId(state: FakeState, login: string): number {
  const key = login.toLowerCase();
  let id = state.userIds.get(key);
  if (id === undefined) {
    id = state.nextId();
    state.userIds.set(key, id);
  }
  return id;
}

export function userJson(ctx: ShapeContext, login: string, type?: 'User' | 'Bot' | 'Organization'): Json {
  return { ...userObject(login, userId(ctx.state, login), { api: ctx.api, html: ctx.html }, type ?? (login.endsWith('[bot]') ? 'Bot' : 'User')), user_view_type: 'public' };
}

function ownerJson(ctx: ShapeContext, repo: RepoState): Json {
  const inst = ctx.state.installations.get(repo.installationId);
  const type = inst && inst.account.toLowerCase() === repo.owner.toLowerCase() ? inst.accountType : 'User';
  return userJson(ctx, repo.owner, type);
}

export function repoApi(ctx: ShapeContext, repo: RepoState): string {
  return `${ctx.api}/repos/${repo.owner}/${repo.name}`;
}

export function repoHtml(ctx: ShapeContext, repo: RepoState): string {
  return `${ctx.html}/${repo.owner}/${repo.name}`;
}

/** A repository: every field of `full-repository` (a superset of `repository`). */
export function repositoryJson(ctx: ShapeContext, repo: RepoState): Json {
  const r = repoApi(ctx, repo);
  const html = repoHtml(ctx, repo);
  const full = `${repo.owner}/${repo.name}`;
  const host = new URL(ctx.html).host;
  const openIssues = [...repo.issues.values(), ...repo.pulls.values()].filter((x) => x.state === 'open').length;
  return {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: full,
    private: repo.private,
    visibility: repo.private ? 'private' : 'public',
    owner: ownerJson(ctx, repo),
    html_url: html,
    description: null,
    fork: false,
    url: r,
    archive_url: `${r}/{archive_format}{/ref}`,
    assignees_url: `${r}/assignees{/user}`,
    blobs_url: `${r}/git/blobs{/sha}`,
    branches_url: `${r}/branches{/branch}`,
    collaborators_url: `${r}/collaborators{/collaborator}`,
    comments_url: `${r}/comments{/number}`,
    commits_url: `${r}/commits{/sha}`,
    compare_url: `${r}/compare/{base}...{head}`,
    contents_url: `${r}/contents/{+path}`,
    contributors_url: `${r}/contributors`,
    deployments_url: `${r}/deployments`,
    downloads_url: `${r}/downloads`,
    events_url: `${r}/events`,
    forks_url: `${r}/forks`,
    git_commits_url: `${r}/git/commits{/sha}`,
    git_refs_url: `${r}/git/refs{/sha}`,
    git_tags_url: `${r}/git/tags{/sha}`,
    git_url: `git://${host}/${full}.git`,
    issue_comment_url: `${r}/issues/comments{/number}`,
    issue_events_url: `${r}/issues/events{/number}`,
    issues_url: `${r}/issues{/number}`,
    keys_url: `${r}/keys{/key_id}`,
    labels_url: `${r}/labels{/name}`,
    languages_url: `${r}/languages`,
    merges_url: `${r}/merges`,
    milestones_url: `${r}/milestones{/number}`,
    notifications_url: `${r}/notifications{?since,all,participating}`,
    pulls_url: `${r}/pulls{/number}`,
    releases_url: `${r}/releases{/id}`,
    ssh_url: `git@${host}:${full}.git`,
    stargazers_url: `${r}/stargazers`,
    statuses_url: `${r}/statuses/{sha}`,
    subscribers_url: `${r}/subscribers`,
    subscription_url: `${r}/subscription`,
    tags_url: `${r}/tags`,
    teams_url: `${r}/teams`,
    trees_url: `${r}/git/trees{/sha}`,
    hooks_url: `${r}/hooks`,
    clone_url: ctx.gitUrl(repo.owner, repo.name),
    mirror_url: null,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues_count: openIssues,
    open_issues: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: false,
    has_discussions: false,
    archived: false,
    disabled: false,
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    allow_forking: true,
    web_commit_signoff_required: false,
    license: null,
    network_count: 0,
    subscribers_count: 0,
  };
}

export function appJson(ctx: ShapeContext): Json {
  const { state } = ctx;
  const owner = [...state.installations.values()][0]?.account ?? 'octo-org';
  return {
    id: state.appId,
    slug: state.appSlug,
    node_id: nodeId('Integration', state.appId),
    client_id: `Iv1.${state.appId.toString(16).padStart(16, '0')}`,
    owner: userJson(ctx, owner, 'Organization'),
    name: state.appName,
    description: null,
    external_url: 'https://keywarden.example',
    html_url: `${ctx.html}/apps/${state.appSlug}`,
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    permissions: { checks: 'write', contents: 'write', issues: 'write', metadata: 'read', pull_requests: 'write' },
    events: ['check_run', 'installation', 'installation_repositories', 'issue_comment', 'pull_request', 'push', 'secret_scanning_alert'],
    installations_count: state.installations.size,
  };
}

export function installationJson(ctx: ShapeContext, inst: InstallationState): Json {
  return {
    id: inst.id,
    account: userJson(ctx, inst.account, inst.accountType),
    repository_selection: 'selected',
    access_tokens_url: `${ctx.api}/app/installations/${inst.id}/access_tokens`,
    repositories_url: `${ctx.api}/installation/repositories`,
    html_url: `${ctx.html}/settings/installations/${inst.id}`,
    app_id: ctx.state.appId,
    app_slug: ctx.state.appSlug,
    target_id: userId(ctx.state, inst.account),
    target_type: inst.accountType,
    permissions: inst.permissions,
    events: inst.events,
    created_at: inst.createdAt,
    updated_at: inst.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

export function gitUserJson(p: { name: string; email: string; date: string }): Json {
  return { name: p.name, email: p.email, date: p.date };
}

export function commitJson(ctx: ShapeContext, repo: RepoState, c: CommitInfo): Json {
  const r = repoApi(ctx, repo);
  return {
    sha: c.sha,
    node_id: nodeId('Commit', c.sha),
    url: `${r}/commits/${c.sha}`,
    html_url: `${repoHtml(ctx, repo)}/commit/${c.sha}`,
    comments_url: `${r}/commits/${c.sha}/comments`,
    commit: {
      url: `${r}/git/commits/${c.sha}`,
      author: gitUserJson(c.author),
      committer: gitUserJson(c.committer),
      message: c.message,
      comment_count: 0,
      tree: { sha: c.tree, url: `${r}/git/trees/${c.tree}` },
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    author: null,
    committer: null,
    parents: c.parents.map((p) => ({ sha: p, url: `${r}/commits/${p}`, html_url: `${repoHtml(ctx, repo)}/commit/${p}` })),
  };
}

export function diffEntryJson(ctx: ShapeContext, repo: RepoState, headSha: string, f: FileDiff): Json {
  const r = repoApi(ctx, repo);
  const encoded = f.filename.split('/').map(encodeURIComponent).join('/');
  return {
    sha: f.sha,
    filename: f.filename,
    status: f.status,
    additions: f.additions,
    deletions: f.deletions,
    changes: f.changes,
    blob_url: `${repoHtml(ctx, repo)}/blob/${headSha}/${encoded}`,
    raw_url: `${repoHtml(ctx, repo)}/raw/${headSha}/${encoded}`,
    contents_url: `${r}/contents/${encoded}?ref=${headSha}`,
    ...(f.patch === undefined ? {} : { patch: f.patch }),
    ...(f.previous_filename === undefined ? {} : { previous_filename: f.previous_filename }),
  };
}

function labelJson(ctx: ShapeContext, repo: RepoState, name: string): Json {
  const id = Number.parseInt(createHash('sha256').update(`${repo.id}:${name}`).digest('hex').slice(0, 8), 16);
  return {
    id,
    node_id: nodeId('Label', id),
    url: `${repoApi(ctx, repo)}/labels/${encodeURIComponent(name)}`,
    name,
    description: null,
    color: 'ededed',
    default: false,
  };
}

/** A pull request's branch end: `head` or `base`. */
function pullEndJson(ctx: ShapeContext, repo: RepoState, ref: string, sha: string): Json {
  return { label: `${repo.owner}:${ref}`, ref, sha, user: ownerJson(ctx, repo), repo: repositoryJson(ctx, repo) };
}

/** Numbers a full pull request carries that need git. */
export interface PullStats {
  additions: number;
  deletions: number;
  changedFiles: number;
  commits: number;
}

export function pullJson(ctx: ShapeContext, repo: RepoState, p: PullState, heads: { head: string; base: string }, stats?: PullStats): Json {
  const r = repoApi(ctx, repo);
  const html = `${repoHtml(ctx, repo)}/pull/${p.number}`;
  const self = `${r}/pulls/${p.number}`;
  const issue = `${r}/issues/${p.number}`;
  const json: Json = {
    url: self,
    id: p.id,
    node_id: nodeId('PullRequest', p.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issue,
    commits_url: `${self}/commits`,
    review_comments_url: `${self}/comments`,
    review_comment_url: `${r}/pulls/comments{/number}`,
    comments_url: `${issue}/comments`,
    statuses_url: `${r}/statuses/${heads.head}`,
    number: p.number,
    state: p.state,
    locked: false,
    title: p.title,
    user: userJson(ctx, p.user),
    body: p.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: p.created_at,
    updated_at: p.updated_at,
    closed_at: p.closed_at,
    merged_at: p.merged_at,
    merge_commit_sha: p.merge_commit_sha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: pullEndJson(ctx, repo, p.head.ref, heads.head),
    base: pullEndJson(ctx, repo, p.base.ref, heads.base),
    _links: {
      self: { href: self },
      html: { href: html },
      issue: { href: issue },
      comments: { href: `${issue}/comments` },
      review_comments: { href: `${self}/comments` },
      review_comment: { href: `${r}/pulls/comments{/number}` },
      commits: { href: `${self}/commits` },
      statuses: { href: `${r}/statuses/${heads.head}` },
    },
    author_association: p.user.endsWith('[bot]') ? 'NONE' : 'CONTRIBUTOR',
    auto_merge: null,
    draft: p.draft,
  };
  if (stats) {
    Object.assign(json, {
      merged: p.merged,
      mergeable: p.state === 'open' ? true : null,
      rebaseable: p.state === 'open' ? true : null,
      mergeable_state: p.state === 'open' ? 'clean' : 'unknown',
      merged_by: p.merged ? userJson(ctx, botLogin(ctx.state)) : null,
      comments: repo.comments.filter((c) => c.issue_number === p.number).length,
      review_comments: 0,
      maintainer_can_modify: p.maintainer_can_modify,
      commits: stats.commits,
      additions: stats.additions,
      deletions: stats.deletions,
      changed_files: stats.changedFiles,
    });
  }
  return json;
}

/** An issue; a pull request listed as an issue carries `pull_request`, as on GitHub. */
export function issueJson(ctx: ShapeContext, repo: RepoState, i: IssueState | PullState): Json {
  const r = repoApi(ctx, repo);
  const self = `${r}/issues/${i.number}`;
  const isPull = 'head' in i;
  const json: Json = {
    id: i.id,
    node_id: nodeId('Issue', i.id),
    url: self,
    repository_url: r,
    labels_url: `${self}/labels{/name}`,
    comments_url: `${self}/comments`,
    events_url: `${self}/events`,
    html_url: `${repoHtml(ctx, repo)}/${isPull ? 'pull' : 'issues'}/${i.number}`,
    number: i.number,
    state: i.state,
    state_reason: isPull ? null : i.state_reason,
    title: i.title,
    body: i.body,
    user: userJson(ctx, i.user),
    labels: isPull ? [] : i.labels.map((l) => labelJson(ctx, repo, l)),
    assignee: !isPull && i.assignees[0] ? userJson(ctx, i.assignees[0]) : null,
    assignees: isPull ? [] : i.assignees.map((a) => userJson(ctx, a)),
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: repo.comments.filter((c) => c.issue_number === i.number).length,
    created_at: i.created_at,
    updated_at: i.updated_at,
    closed_at: i.closed_at,
    author_association: i.user.endsWith('[bot]') ? 'NONE' : 'CONTRIBUTOR',
    reactions: reactionsJson(self),
  };
  if (isPull) {
    const pr = `${r}/pulls/${i.number}`;
    const html = `${repoHtml(ctx, repo)}/pull/${i.number}`;
    json.pull_request = { url: pr, html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`, merged_at: i.merged_at };
    json.draft = i.draft;
  }
  return json;
}

function reactionsJson(url: string): Json {
  const zero = { '+1': 0, '-1': 0, laugh: 0, confused: 0, heart: 0, hooray: 0, eyes: 0, rocket: 0 };
  return { url: `${url}/reactions`, total_count: 0, ...zero };
}

export function commentJson(ctx: ShapeContext, repo: RepoState, c: CommentState): Json {
  const r = repoApi(ctx, repo);
  const isPull = repo.pulls.has(c.issue_number);
  return {
    id: c.id,
    node_id: nodeId('IssueComment', c.id),
    url: `${r}/issues/comments/${c.id}`,
    html_url: `${repoHtml(ctx, repo)}/${isPull ? 'pull' : 'issues'}/${c.issue_number}#issuecomment-${c.id}`,
    issue_url: `${r}/issues/${c.issue_number}`,
    body: c.body,
    user: userJson(ctx, c.user),
    created_at: c.created_at,
    updated_at: c.updated_at,
    author_association: c.user.endsWith('[bot]') ? 'NONE' : 'CONTRIBUTOR',
    performed_via_github_app: c.user === botLogin(ctx.state) ? appJson(ctx) : null,
    reactions: reactionsJson(`${r}/issues/comments/${c.id}`),
  };
}

export function checkRunJson(ctx: ShapeContext, repo: RepoState, run: CheckRunState): Json {
  const self = `${repoApi(ctx, repo)}/check-runs/${run.id}`;
  return {
    id: run.id,
    node_id: nodeId('CheckRun', run.id),
    head_sha: run.head_sha,
    external_id: run.external_id,
    url: self,
    html_url: `${repoHtml(ctx, repo)}/runs/${run.id}`,
    details_url: run.details_url ?? `${repoHtml(ctx, repo)}/runs/${run.id}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.started_at,
    completed_at: run.completed_at,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.annotations.length,
      annotations_url: `${self}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.id + 500_000 },
    app: appJson(ctx),
    pull_requests: [],
  };
}

export function annotationJson(ctx: ShapeContext, repo: RepoState, run: CheckRunState, a: CheckRunState['annotations'][number]): Json {
  return {
    path: a.path,
    blob_href: `${repoHtml(ctx, repo)}/blob/${run.head_sha}/${a.path}`,
    start_line: a.start_line,
    end_line: a.end_line,
    start_column: a.start_column ?? null,
    end_column: a.end_column ?? null,
    annotation_level: a.annotation_level,
    title: a.title ?? null,
    message: a.message,
    raw_details: a.raw_details ?? null,
  };
}

export function deployKeyJson(ctx: ShapeContext, repo: RepoState, k: DeployKeyState): Json {
  return {
    id: k.id,
    key: k.key,
    url: `${repoApi(ctx, repo)}/keys/${k.id}`,
    title: k.title,
    verified: true,
    created_at: k.created_at,
    read_only: k.read_only,
    added_by: k.added_by,
    last_used: null,
    enabled: true,
  };
}

export function alertJson(ctx: ShapeContext, repo: RepoState, a: AlertState): Json {
  const self = `${repoApi(ctx, repo)}/secret-scanning/alerts/${a.number}`;
  return {
    number: a.number,
    created_at: a.created_at,
    updated_at: a.updated_at,
    url: self,
    html_url: `${repoHtml(ctx, repo)}/security/secret-scanning/${a.number}`,
    locations_url: `${self}/locations`,
    state: a.state,
    resolution: a.resolution,
    resolved_at: a.resolved_at,
    resolved_by: a.resolved_by ? userJson(ctx, a.resolved_by) : null,
    resolution_comment: a.resolution_comment,
    secret_type: a.secret_type,
    secret_type_display_name: a.secret_type_display_name,
    ...(a.secret === undefined ? {} : { secret: a.secret }),
    validity: a.validity,
    publicly_leaked: false,
    multi_repo: false,
    push_protection_bypassed: false,
    push_protection_bypassed_by: null,
    push_protection_bypassed_at: null,
  };
}

export function alertLocationJson(ctx: ShapeContext, repo: RepoState, l: AlertState['locations'][number]): Json {
  const r = repoApi(ctx, repo);
  return {
    type: 'commit',
    details: {
      ...l,
      blob_url: `${r}/git/blobs/${l.blob_sha}`,
      commit_url: `${r}/git/commits/${l.commit_sha}`,
    },
  };
}
