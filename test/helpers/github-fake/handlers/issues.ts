/**
 * Issues and their comments. Pull requests share the number sequence and are issues too: they
 * are listed by `GET /issues` (with a `pull_request` key), take comments, and `PATCH /issues/{n}`
 * edits their title, body and state, as on GitHub.
 */
import { commentJson, issueJson } from '../shapes.js';
import { botLogin, type CommentState, type IssueState, type PullState, type RepoState } from '../state.js';
import { notFound, ok, paginate } from './reply.js';
import { onRepo, type FakeCore, type Handlers } from './types.js';

type LabelInput = string | { name?: string };

function labelNames(labels: LabelInput[] | undefined): string[] | undefined {
  return labels?.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean);
}

function itemOf(repo: RepoState, n: unknown): IssueState | PullState | undefined {
  return repo.issues.get(Number(n)) ?? repo.pulls.get(Number(n));
}

const create = onRepo((input, repo) => {
  const b = input.body as { title: string | number; body?: string | null; labels?: LabelInput[]; assignees?: string[]; assignee?: string | null };
  const now = input.fake.now();
  const issue: IssueState = {
    number: repo.nextNumber++,
    id: input.fake.state.nextId(),
    title: String(b.title),
    body: b.body ?? null,
    state: 'open',
    state_reason: null,
    labels: labelNames(b.labels) ?? [],
    assignees: b.assignees ?? (b.assignee ? [b.assignee] : []),
    user: botLogin(input.fake.state),
    created_at: now,
    updated_at: now,
    closed_at: null,
  };
  repo.issues.set(issue.number, issue);
  return ok(issueJson(input.fake, repo, issue), 201);
});

const update = onRepo((input, repo) => {
  const item = itemOf(repo, input.params.issue_number);
  if (!item) return notFound();
  const b = input.body as {
    title?: string | number | null;
    body?: string | null;
    state?: 'open' | 'closed';
    state_reason?: IssueState['state_reason'];
    labels?: LabelInput[];
    assignees?: string[];
  };
  const now = input.fake.now();
  if (b.title !== undefined && b.title !== null) item.title = String(b.title);
  if (b.body !== undefined) item.body = b.body;
  if (b.state !== undefined && b.state !== item.state) {
    item.state = b.state;
    item.closed_at = b.state === 'closed' ? now : null;
  }
  if ('labels' in item) {
    if (b.state_reason !== undefined) item.state_reason = b.state_reason;
    else if (b.state !== undefined) item.state_reason = b.state === 'closed' ? 'completed' : 'reopened';
    const labels = labelNames(b.labels);
    if (labels) item.labels = labels;
    if (b.assignees) item.assignees = b.assignees;
  }
  item.updated_at = now;
  return ok(issueJson(input.fake, repo, item));
});

const get = onRepo((input, repo) => {
  const item = itemOf(repo, input.params.issue_number);
  return item ? ok(issueJson(input.fake, repo, item)) : notFound();
});

const list = onRepo((input, repo) => {
  const state = (input.query.state as string | undefined) ?? 'open';
  const wanted = typeof input.query.labels === 'string' ? input.query.labels.split(',').map((l) => l.trim().toLowerCase()).filter(Boolean) : [];
  const creator = input.query.creator as string | undefined;
  let items = [...repo.issues.values(), ...repo.pulls.values()].filter((i) => {
    const labels = 'labels' in i ? i.labels.map((l) => l.toLowerCase()) : [];
    const byCreator = creator === undefined || i.user.toLowerCase() === creator.toLowerCase();
    return (state === 'all' || i.state === state) && wanted.every((w) => labels.includes(w)) && byCreator;
  });
  const sort = (input.query.sort as string | undefined) ?? 'created';
  const key = (i: IssueState | PullState): string => (sort === 'updated' ? i.updated_at : i.created_at);
  items.sort((a, b) => key(a).localeCompare(key(b)) || a.number - b.number);
  if (((input.query.direction as string | undefined) ?? 'desc') === 'desc') items = items.reverse();
  const { page, headers } = paginate(items, input);
  return ok(
    page.map((i) => issueJson(input.fake, repo, i)),
    200,
    headers,
  );
});

/** Adds a comment to an issue or pull request (the handler, and `gh.addComment` for a human's comment). */
export function addComment(fake: FakeCore, repo: RepoState, issueNumber: number, body: string, user: string): CommentState | undefined {
  if (!itemOf(repo, issueNumber)) return undefined;
  const now = fake.now();
  const c: CommentState = { id: fake.state.nextId(), issue_number: issueNumber, body, user, created_at: now, updated_at: now };
  repo.comments.push(c);
  return c;
}

const createComment = onRepo((input, repo) => {
  const c = addComment(input.fake, repo, Number(input.params.issue_number), String(input.body.body), botLogin(input.fake.state));
  return c ? ok(commentJson(input.fake, repo, c), 201) : notFound();
});

const listComments = onRepo((input, repo) => {
  const n = Number(input.params.issue_number);
  if (!itemOf(repo, n)) return notFound();
  const since = input.query.since as string | undefined;
  const all = repo.comments.filter((c) => c.issue_number === n && (since === undefined || c.updated_at >= since));
  const { page, headers } = paginate(all, input);
  return ok(
    page.map((c) => commentJson(input.fake, repo, c)),
    200,
    headers,
  );
});

export const issueHandlers: Handlers = {
  'issues/create': create,
  'issues/update': update,
  'issues/get': get,
  'issues/list-for-repo': list,
  'issues/create-comment': createComment,
  'issues/list-comments': listComments,
};
