/**
 * Webhook deliveries for the App's tests. Each builder starts from a real payload in
 * `@octokit/webhooks-examples` (the secret scanning alert, which that package lacks, from the
 * example in GitHub's OpenAPI description) and replaces what identifies the event: the
 * repository (owner, name, full name, id, default branch, visibility, clone URL; every URL in it
 * re-pointed), the installation, the sender, and the event's own fields. `signDelivery` turns a
 * delivery into the headers and raw body GitHub would POST, signed with HMAC-SHA256.
 *
 * @example
 * const delivery = buildPushEvent({ repository: { owner: 'acme', name: 'api' }, installationId: 1,
 *   ref: 'refs/heads/main', before, after });
 * const { headers, body } = signDelivery(delivery, 'webhook-secret');
 * await fetch(`${appUrl}/api/github/webhooks`, { method: 'POST', headers, body });
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { ZERO_SHA } from './bare-repo.js';
import { specExample } from './openapi-validate.js';

type Json = Record<string, unknown>;

/** An event ready for `probot.receive(delivery)` or `signDelivery(delivery, secret)`. */
export interface WebhookDelivery {
  id: string;
  name: string;
  payload: Json;
}

/** The repository an event is about. */
export interface WebhookRepository {
  owner: string;
  name: string;
  id?: number;
  defaultBranch?: string;
  private?: boolean;
  /** Default `${htmlUrl}/owner/name.git`; the fake passes its smart HTTP URL. */
  cloneUrl?: string;
  ownerType?: 'User' | 'Organization';
}

/** What every builder takes. */
export interface WebhookCommon {
  installationId: number;
  /** The login of who caused the event; default the repository owner. */
  sender?: string;
  /** Where API URLs in the payload point; default `https://api.github.com`. */
  apiUrl?: string;
  /** Where web URLs point; default `https://github.com`. */
  htmlUrl?: string;
}

interface WebhookDefinition {
  name: string;
  examples: Json[];
}

let definitions: WebhookDefinition[] | undefined;

/** A deep copy of the first example of `event` that matches `pick` (default: the first). */
function example(event: string, pick: (p: Json) => boolean = () => true): Json {
  definitions ??= createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];
  const found = definitions.find((d) => d.name === event)?.examples.filter(pick) ?? [];
  const best = found.find((p) => p.installation) ?? found[0];
  if (!best) throw new Error(`github-fake: @octokit/webhooks-examples has no ${event} example that fits`);
  return structuredClone(best);
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
}

/** A stable numeric id for a name (the same login gets the same id in every payload). */
export function stableId(name: string): number {
  return Number.parseInt(createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 7), 16);
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`0:${kind}${id}`).toString('base64').replace(/=+$/, '');
}

export interface Urls {
  api: string;
  html: string;
}

function urlsOf(c: WebhookCommon): Urls {
  return { api: c.apiUrl ?? 'https://api.github.com', html: c.htmlUrl ?? 'https://github.com' };
}

export function webhookUser(login: string, urls: Urls, type: 'User' | 'Bot' | 'Organization' = login.endsWith('[bot]') ? 'Bot' : 'User'): Json {
  return userObject(login, stableId(login), urls, type);
}

/** A simple-user object as GitHub's REST answers and webhook payloads carry it. */
export function userObject(login: string, id: number, urls: Urls, type: 'User' | 'Bot' | 'Organization'): Json {
  const u = `${urls.api}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: nodeId('User', id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: u,
    html_url: `${urls.html}/${encodeURIComponent(login)}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type,
    site_admin: false,
  };
}

/** The example's repository, re-pointed at `target`. */
function retargetRepository(template: Json, target: WebhookRepository, urls: Urls): Json {
  const oldFull = String(template.full_name);
  const full = `${target.owner}/${target.name}`;
  const host = new URL(urls.html).host;
  const rewritten = mapStrings(template, (s) =>
    s
      .replace(`https://api.github.com/repos/${oldFull}`, `${urls.api}/repos/${full}`)
      .replace(`https://github.com/${oldFull}`, `${urls.html}/${full}`)
      .replace(`git://github.com/${oldFull}`, `git://${host}/${full}`)
      .replace(`git@github.com:${oldFull}`, `git@${host}:${full}`),
  ) as Json;
  const id = target.id ?? stableId(full);
  const defaultBranch = target.defaultBranch ?? 'main';
  const isPrivate = target.private ?? true;
  Object.assign(rewritten, {
    id,
    node_id: nodeId('Repository', id),
    name: target.name,
    full_name: full,
    private: isPrivate,
    visibility: isPrivate ? 'private' : 'public',
    owner: webhookUser(target.owner, urls, target.ownerType ?? 'Organization'),
    default_branch: defaultBranch,
    clone_url: target.cloneUrl ?? `${urls.html}/${full}.git`,
    has_discussions: rewritten.has_discussions ?? false,
    topics: rewritten.topics ?? [],
  });
  if ('master_branch' in rewritten) rewritten.master_branch = defaultBranch;
  return rewritten;
}

/** Replaces repository, installation, sender; drops the example's organization and enterprise. */
function retarget(payload: Json, repository: WebhookRepository | undefined, common: WebhookCommon): Json {
  const urls = urlsOf(common);
  if (repository) payload.repository = retargetRepository(payload.repository as Json, repository, urls);
  payload.installation = { id: common.installationId, node_id: nodeId('Installation', common.installationId) };
  payload.sender = webhookUser(common.sender ?? repository?.owner ?? 'octocat', urls);
  delete payload.organization;
  delete payload.enterprise;
  return payload;
}

function delivery(name: string, payload: Json): WebhookDelivery {
  return { id: randomUUID(), name, payload };
}

// --- push ---------------------------------------------------------------------------------

/** A commit in a push payload. */
export interface PushCommit {
  id: string;
  tree_id: string;
  message: string;
  timestamp: string;
  author: { name: string; email: string; username?: string };
  committer: { name: string; email: string; username?: string };
  added: string[];
  removed: string[];
  modified: string[];
}

export interface PushEventOptions extends WebhookCommon {
  repository: WebhookRepository;
  ref: string;
  before: string;
  after: string;
  /** Oldest first. The last one is `head_commit`. */
  commits?: PushCommit[];
  /** Default: `before` is all zeros. */
  created?: boolean;
  /** Default: `after` is all zeros. */
  deleted?: boolean;
  forced?: boolean;
  pusher?: { name: string; email: string };
}

export function buildPushEvent(o: PushEventOptions): WebhookDelivery {
  const p = retarget(example('push', (x) => Array.isArray(x.commits) && x.commits.length > 0), o.repository, o);
  const urls = urlsOf(o);
  const full = `${o.repository.owner}/${o.repository.name}`;
  const commits = (o.commits ?? []).map((c) => ({ ...c, distinct: true, url: `${urls.html}/${full}/commit/${c.id}` }));
  Object.assign(p, {
    ref: o.ref,
    before: o.before,
    after: o.after,
    created: o.created ?? o.before === ZERO_SHA,
    deleted: o.deleted ?? o.after === ZERO_SHA,
    forced: o.forced ?? false,
    base_ref: null,
    compare: `${urls.html}/${full}/compare/${o.before.slice(0, 12)}...${o.after.slice(0, 12)}`,
    commits,
    head_commit: commits.at(-1) ?? null,
    pusher: o.pusher ?? { name: o.sender ?? o.repository.owner, email: `${o.sender ?? o.repository.owner}@users.noreply.github.com` },
  });
  return delivery('push', p);
}

// --- pull_request -------------------------------------------------------------------------

export interface PullRequestEventOptions extends WebhookCommon {
  action: 'opened' | 'synchronize' | 'reopened' | 'closed' | 'edited';
  repository: WebhookRepository;
  number: number;
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  /** The head is in a fork of the repository owned by this login. */
  headOwner?: string;
  title?: string;
  body?: string | null;
  /** The author; default the sender. */
  user?: string;
  /** For `synchronize`: the head before and after the push. */
  before?: string;
  after?: string;
  merged?: boolean;
}

export function buildPullRequestEvent(o: PullRequestEventOptions): WebhookDelivery {
  const p = retarget(example('pull_request', (x) => x.action === o.action || (o.action === 'edited' && x.action === 'opened')), o.repository, o);
  const urls = urlsOf(o);
  const repo = p.repository as Json;
  const full = String(repo.full_name);
  const api = `${urls.api}/repos/${full}`;
  const pr = mapStrings(p.pull_request, (s) => s.replace(/\/(pulls|pull|issues)\/\d+/, `/$1/${o.number}`)) as Json;
  const end = (e: { ref: string; sha: string }): Json => ({ label: `${o.repository.owner}:${e.ref}`, ref: e.ref, sha: e.sha, user: repo.owner, repo });
  const forkEnd = (e: { ref: string; sha: string }, owner: string): Json => {
    const user = webhookUser(owner, urls);
    const fork = { ...repo, id: stableId(`${owner}/${String(repo.name)}`), node_id: `R_fork_${owner}`, full_name: `${owner}/${String(repo.name)}`, owner: user, fork: true };
    return { label: `${owner}:${e.ref}`, ref: e.ref, sha: e.sha, user, repo: fork };
  };
  const closed = o.action === 'closed';
  Object.assign(pr, {
    url: `${api}/pulls/${o.number}`,
    html_url: `${urls.html}/${full}/pull/${o.number}`,
    issue_url: `${api}/issues/${o.number}`,
    number: o.number,
    state: closed ? 'closed' : 'open',
    title: o.title ?? (pr.title as string),
    body: o.body === undefined ? pr.body : o.body,
    user: webhookUser(o.user ?? o.sender ?? o.repository.owner, urls),
    head: o.headOwner ? forkEnd(o.head, o.headOwner) : end(o.head),
    base: end(o.base),
    merged: o.merged ?? false,
    merged_at: o.merged ? new Date().toISOString() : null,
    closed_at: closed ? new Date().toISOString() : null,
    draft: false,
    auto_merge: null,
    labels: [],
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    milestone: null,
  });
  p.action = o.action;
  p.number = o.number;
  p.pull_request = pr;
  if (o.action === 'synchronize') Object.assign(p, { before: o.before ?? o.base.sha, after: o.after ?? o.head.sha });
  else {
    delete p.before;
    delete p.after;
  }
  if (o.action !== 'edited') delete p.changes;
  else p.changes ??= {};
  return delivery('pull_request', p);
}

// --- check_run ----------------------------------------------------------------------------

export interface CheckRunEventOptions extends WebhookCommon {
  action: 'requested_action' | 'rerequested' | 'created' | 'completed';
  repository: WebhookRepository;
  checkRun: { id: number; name: string; head_sha: string; head_branch?: string; external_id?: string; status?: string; conclusion?: string | null };
  /** For `requested_action`: the button's identifier. */
  identifier?: string;
  app?: { id: number; slug: string; name?: string };
}

export function buildCheckRunEvent(o: CheckRunEventOptions): WebhookDelivery {
  const p = retarget(example('check_run', (x) => x.action === o.action), o.repository, o);
  const urls = urlsOf(o);
  const full = `${o.repository.owner}/${o.repository.name}`;
  const api = `${urls.api}/repos/${full}`;
  const run = p.check_run as Json;
  const suite = (run.check_suite ?? {}) as Json;
  Object.assign(suite, { head_sha: o.checkRun.head_sha, head_branch: o.checkRun.head_branch ?? null, pull_requests: [] });
  if (o.app) {
    const app = (run.app ?? {}) as Json;
    Object.assign(app, { id: o.app.id, slug: o.app.slug, name: o.app.name ?? o.app.slug });
    run.app = app;
    suite.app = app;
  }
  Object.assign(run, {
    id: o.checkRun.id,
    node_id: nodeId('CheckRun', o.checkRun.id),
    name: o.checkRun.name,
    head_sha: o.checkRun.head_sha,
    external_id: o.checkRun.external_id ?? '',
    status: o.checkRun.status ?? 'completed',
    conclusion: o.checkRun.conclusion === undefined ? 'failure' : o.checkRun.conclusion,
    url: `${api}/check-runs/${o.checkRun.id}`,
    html_url: `${urls.html}/${full}/runs/${o.checkRun.id}`,
    check_suite: suite,
    pull_requests: [],
  });
  if (o.action === 'requested_action') p.requested_action = { identifier: o.identifier ?? '' };
  else delete p.requested_action;
  return delivery('check_run', p);
}

// --- issue_comment ------------------------------------------------------------------------

export interface IssueCommentEventOptions extends WebhookCommon {
  repository: WebhookRepository;
  issue: { number: number; title?: string; state?: 'open' | 'closed'; user?: string; pullRequest?: boolean };
  comment: { id: number; body: string; user?: string };
}

export function buildIssueCommentEvent(o: IssueCommentEventOptions): WebhookDelivery {
  const p = retarget(example('issue_comment', (x) => x.action === 'created'), o.repository, o);
  const urls = urlsOf(o);
  const full = `${o.repository.owner}/${o.repository.name}`;
  const api = `${urls.api}/repos/${full}`;
  const kind = o.issue.pullRequest ? 'pull' : 'issues';
  const issue = p.issue as Json;
  Object.assign(issue, {
    url: `${api}/issues/${o.issue.number}`,
    repository_url: api,
    labels_url: `${api}/issues/${o.issue.number}/labels{/name}`,
    comments_url: `${api}/issues/${o.issue.number}/comments`,
    events_url: `${api}/issues/${o.issue.number}/events`,
    html_url: `${urls.html}/${full}/${kind}/${o.issue.number}`,
    number: o.issue.number,
    title: o.issue.title ?? issue.title,
    state: o.issue.state ?? 'open',
    user: webhookUser(o.issue.user ?? o.repository.owner, urls),
    labels: [],
    assignee: null,
    assignees: [],
    milestone: null,
  });
  if (o.issue.pullRequest) {
    const html = `${urls.html}/${full}/pull/${o.issue.number}`;
    issue.pull_request = { url: `${api}/pulls/${o.issue.number}`, html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`, merged_at: null };
  } else delete issue.pull_request;
  const comment = p.comment as Json;
  const author = o.comment.user ?? o.sender ?? o.repository.owner;
  Object.assign(comment, {
    id: o.comment.id,
    node_id: nodeId('IssueComment', o.comment.id),
    url: `${api}/issues/comments/${o.comment.id}`,
    html_url: `${urls.html}/${full}/${kind}/${o.issue.number}#issuecomment-${o.comment.id}`,
    issue_url: `${api}/issues/${o.issue.number}`,
    body: o.comment.body,
    user: webhookUser(author, urls),
  });
  p.sender = webhookUser(o.sender ?? author, urls);
  return delivery('issue_comment', p);
}

// --- secret_scanning_alert ----------------------------------------------------------------

export interface SecretScanningAlertEventOptions extends WebhookCommon {
  repository: WebhookRepository;
  alert: { number: number; secret_type: string; secret_type_display_name?: string; secret?: string; validity?: 'active' | 'inactive' | 'unknown' };
}

/** From the OpenAPI description's `secret-scanning-alert-location-created` example (the only real one). */
export function buildSecretScanningAlertEvent(o: SecretScanningAlertEventOptions): WebhookDelivery {
  const p = retarget(specExample('secret-scanning-alert-location-created') as Json, o.repository, o);
  delete p.location;
  p.action = 'created';
  const urls = urlsOf(o);
  const full = `${o.repository.owner}/${o.repository.name}`;
  const api = `${urls.api}/repos/${full}/secret-scanning/alerts/${o.alert.number}`;
  const alert = p.alert as Json;
  delete alert.secret;
  Object.assign(alert, {
    number: o.alert.number,
    url: api,
    html_url: `${urls.html}/${full}/security/secret-scanning/${o.alert.number}`,
    locations_url: `${api}/locations`,
    secret_type: o.alert.secret_type,
    secret_type_display_name: o.alert.secret_type_display_name ?? o.alert.secret_type,
    state: 'open',
    resolution: null,
    validity: o.alert.validity ?? 'unknown',
    ...(o.alert.secret === undefined ? {} : { secret: o.alert.secret }),
  });
  return delivery('secret_scanning_alert', p);
}

// --- installation, installation_repositories ---------------------------------------------

export interface InstallationEventOptions extends WebhookCommon {
  account: string;
  accountType?: 'User' | 'Organization';
  repositories: Array<{ name: string; private?: boolean; id?: number }>;
  app?: { id: number; slug: string };
}

function installationObject(o: InstallationEventOptions, template: Json): Json {
  const urls = urlsOf(o);
  const account = webhookUser(o.account, urls, o.accountType ?? 'Organization');
  return {
    ...template,
    id: o.installationId,
    node_id: nodeId('Installation', o.installationId),
    account,
    repository_selection: 'selected',
    access_tokens_url: `${urls.api}/app/installations/${o.installationId}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.html}/settings/installations/${o.installationId}`,
    app_id: o.app?.id ?? template.app_id,
    app_slug: o.app?.slug ?? 'keywarden',
    target_id: account.id,
    target_type: account.type,
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    single_file_name: null,
    suspended_by: null,
    suspended_at: null,
  };
}

function shortRepos(o: InstallationEventOptions): Json[] {
  return o.repositories.map((r) => {
    const full = `${o.account}/${r.name}`;
    const id = r.id ?? stableId(full);
    return { id, node_id: nodeId('Repository', id), name: r.name, full_name: full, private: r.private ?? true };
  });
}

export function buildInstallationEvent(o: InstallationEventOptions): WebhookDelivery {
  const ex = example('installation', (x) => x.action === 'created');
  const template = ex.installation as Json;
  const p = retarget(ex, undefined, { ...o, sender: o.sender ?? o.account });
  p.installation = installationObject(o, template);
  p.repositories = shortRepos(o);
  p.requester = null;
  return delivery('installation', p);
}

export function buildInstallationRepositoriesEvent(o: InstallationEventOptions): WebhookDelivery {
  const ex = example('installation_repositories', (x) => x.action === 'added');
  const template = ex.installation as Json;
  const p = retarget(ex, undefined, { ...o, sender: o.sender ?? o.account });
  p.installation = installationObject(o, template);
  p.repository_selection = 'selected';
  p.repositories_added = shortRepos(o);
  p.repositories_removed = [];
  p.requester = null;
  return delivery('installation_repositories', p);
}

// --- signing ------------------------------------------------------------------------------

export interface SignedDelivery {
  headers: {
    'x-github-event': string;
    'x-github-delivery': string;
    'x-hub-signature-256': string;
    'content-type': 'application/json';
    'user-agent': string;
  };
  body: string;
}

/** The raw body and headers GitHub would POST for `event`, signed with `secret` (`sha256=<hex>`). */
export function signDelivery(
  event: Pick<WebhookDelivery, 'name' | 'payload'> & { id?: string },
  secret: string,
  options: { id?: string } = {},
): SignedDelivery {
  const body = JSON.stringify(event.payload);
  const signature = createHmac('sha256', secret).update(body).digest('hex');
  return {
    headers: {
      'x-github-event': event.name,
      'x-github-delivery': options.id ?? event.id ?? randomUUID(),
      'x-hub-signature-256': `sha256=${signature}`,
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/github-fake',
    },
    body,
  };
}
