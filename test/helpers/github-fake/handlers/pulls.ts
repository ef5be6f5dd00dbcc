/**
 * Pull requests, within one repository (no forks). While open, a pull request's head and base
 * follow their branch tips; merging (`mergePull`, a test helper: fast-forward when possible, else
 * a merge commit) and closing freeze them.
 */
import { diffEntryJson, pullJson, type PullStats } from '../shapes.js';
import { botLogin, type PullState, type RepoState } from '../state.js';
import { threeDotFiles } from './compare.js';
import { notFound, ok, paginate, unprocessable } from './reply.js';
import { onRepo, type FakeCore, type Handlers, type Reply } from './types.js';

export async function refreshPull(repo: RepoState, p: PullState): Promise<{ head: string; base: string }> {
  if (p.state === 'open') {
    if (!p.fork) p.head.sha = (await repo.git.branchTip(p.head.ref)) ?? p.head.sha;
    p.base.sha = (await repo.git.branchTip(p.base.ref)) ?? p.base.sha;
  }
  if (p.pullRef !== p.head.sha) {
    await repo.git.setRef(`refs/pull/${p.number}/head`, p.head.sha);
    p.pullRef = p.head.sha;
  }
  return { head: p.head.sha, base: p.base.sha };
}

async function stats(repo: RepoState, heads: { head: string; base: string }, fake: FakeCore): Promise<PullStats> {
  const files = (await threeDotFiles(repo, heads.base, heads.head, 0)) ?? [];
  const mb = await repo.git.mergeBase(heads.base, heads.head);
  return {
    additions: files.reduce((n, f) => n + f.additions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
    changedFiles: Math.min(files.length, fake.limits.pullFiles),
    commits: mb ? await repo.git.count(`${mb}..${heads.head}`) : 0,
  };
}

export async function fullPullJson(fake: FakeCore, repo: RepoState, p: PullState): Promise<Record<string, unknown>> {
  const heads = await refreshPull(repo, p);
  return pullJson(fake, repo, p, heads, await stats(repo, heads, fake));
}

/** `owner:branch` or `branch`; undefined when the owner is another account (a fork). */
function headBranch(repo: RepoState, head: string): string | undefined {
  const colon = head.indexOf(':');
  if (colon < 0) return head;
  return head.slice(0, colon).toLowerCase() === repo.owner.toLowerCase() ? head.slice(colon + 1) : undefined;
}

const list = onRepo(async (input, repo) => {
  const state = (input.query.state as string | undefined) ?? 'open';
  const head = typeof input.query.head === 'string' ? input.query.head : undefined;
  const headRef = head === undefined ? undefined : headBranch(repo, head.includes(':') ? head : `${repo.owner}:${head}`);
  const base = input.query.base as string | undefined;
  let pulls = [...repo.pulls.values()].filter(
    (p) => (state === 'all' || p.state === state) && (head === undefined || p.head.ref === headRef) && (base === undefined || p.base.ref === base),
  );
  const sort = (input.query.sort as string | undefined) ?? 'created';
  const key = (p: PullState): string => (sort === 'updated' ? p.updated_at : p.created_at);
  pulls.sort((a, b) => key(a).localeCompare(key(b)) || a.number - b.number);
  if (((input.query.direction as string | undefined) ?? (sort === 'created' ? 'desc' : 'asc')) === 'desc') pulls = pulls.reverse();
  const { page, headers } = paginate(pulls, input);
  const out = [];
  for (const p of page) out.push(pullJson(input.fake, repo, p, await refreshPull(repo, p)));
  return ok(out, 200, headers);
});

/** GitHub's 422 for a pull request: `field` and `code`, or a `custom` message. */
function refused(field: string | undefined, code: string, message?: string): Reply {
  return unprocessable('Validation Failed', [{ resource: 'PullRequest', code, ...(field ? { field } : {}), ...(message ? { message } : {}) }]);
}

const create = onRepo(async (input, repo) => {
  const b = input.body as { title?: string; head: string; base: string; body?: string; draft?: boolean; maintainer_can_modify?: boolean };
  const headRef = headBranch(repo, b.head);
  if (headRef === undefined) return refused('head', 'invalid', 'Pull requests from forks are not supported by the fake.');
  if (b.title === undefined) return refused('title', 'missing_field');
  const baseSha = await repo.git.branchTip(b.base);
  if (!baseSha) return refused('base', 'invalid');
  const headSha = await repo.git.branchTip(headRef);
  if (!headSha) return refused('head', 'invalid');
  if ([...repo.pulls.values()].some((p) => p.state === 'open' && p.head.ref === headRef && p.base.ref === b.base)) {
    return refused(undefined, 'custom', `A pull request already exists for ${repo.owner}:${headRef}.`);
  }
  const mb = await repo.git.mergeBase(baseSha, headSha);
  if (!mb || (await repo.git.count(`${mb}..${headSha}`)) === 0) return refused(undefined, 'custom', `No commits between ${b.base} and ${headRef}`);
  const now = input.fake.now();
  const p: PullState = {
    number: repo.nextNumber++,
    id: input.fake.state.nextId(),
    title: b.title,
    body: b.body ?? null,
    state: 'open',
    draft: b.draft ?? false,
    user: botLogin(input.fake.state),
    head: { ref: headRef, sha: headSha },
    base: { ref: b.base, sha: baseSha },
    merged: false,
    merged_at: null,
    merge_commit_sha: null,
    maintainer_can_modify: b.maintainer_can_modify ?? false,
    created_at: now,
    updated_at: now,
    closed_at: null,
  };
  repo.pulls.set(p.number, p);
  return ok(await fullPullJson(input.fake, repo, p), 201);
});

function pullOf(repo: RepoState, n: unknown): PullState | undefined {
  return repo.pulls.get(Number(n));
}

const get = onRepo(async (input, repo) => {
  const p = pullOf(repo, input.params.pull_number);
  return p ? ok(await fullPullJson(input.fake, repo, p)) : notFound();
});

const update = onRepo(async (input, repo) => {
  const p = pullOf(repo, input.params.pull_number);
  if (!p) return notFound();
  const b = input.body as { title?: string; body?: string; state?: 'open' | 'closed'; base?: string; maintainer_can_modify?: boolean };
  if (b.base !== undefined && !(await repo.git.branchTip(b.base))) return refused('base', 'invalid');
  if (b.state === 'open' && p.state === 'closed') {
    if (p.merged) return refused(undefined, 'custom', 'Cannot reopen a merged pull request');
    if (!(await repo.git.branchTip(p.head.ref))) return refused('state', 'invalid', 'The head branch is gone');
  }
  if (b.state === 'closed' && p.state === 'open') await refreshPull(repo, p);
  if (b.title !== undefined) p.title = b.title;
  if (b.body !== undefined) p.body = b.body;
  if (b.base !== undefined) p.base.ref = b.base;
  if (b.maintainer_can_modify !== undefined) p.maintainer_can_modify = b.maintainer_can_modify;
  if (b.state !== undefined && b.state !== p.state) {
    p.state = b.state;
    p.closed_at = b.state === 'closed' ? input.fake.now() : null;
  }
  p.updated_at = input.fake.now();
  return ok(await fullPullJson(input.fake, repo, p));
});

const listFiles = onRepo(async (input, repo) => {
  const p = pullOf(repo, input.params.pull_number);
  if (!p) return notFound();
  const heads = await refreshPull(repo, p);
  const files = ((await threeDotFiles(repo, heads.base, heads.head, input.fake.limits.patchBytes)) ?? []).slice(0, input.fake.limits.pullFiles);
  const { page, headers } = paginate(files, input);
  return ok(page.map((f) => diffEntryJson(input.fake, repo, heads.head, f)), 200, headers);
});

/** Merges an open pull request: fast-forward when the base is behind, else a merge commit. */
export async function mergePull(fake: FakeCore, repo: RepoState, n: number): Promise<string> {
  const p = repo.pulls.get(n);
  if (!p || p.state !== 'open') throw new Error(`github-fake: pull request #${n} of ${repo.owner}/${repo.name} is not open`);
  const { head, base } = await refreshPull(repo, p);
  const sha = (await repo.git.isAncestor(base, head))
    ? head
    : await repo.git.mergeCommit(base, head, `Merge pull request #${n} from ${repo.owner}/${p.head.ref}\n\n${p.title}`);
  await repo.git.setRef(`refs/heads/${p.base.ref}`, sha, base);
  const now = fake.now();
  const merged = { state: 'closed', merged: true, merged_at: now, closed_at: now, updated_at: now, merge_commit_sha: sha } satisfies Partial<PullState>;
  Object.assign(p, merged);
  p.base.sha = sha;
  return sha;
}

export async function closePull(fake: FakeCore, repo: RepoState, n: number): Promise<void> {
  const p = repo.pulls.get(n);
  if (!p) throw new Error(`github-fake: no pull request #${n} in ${repo.owner}/${repo.name}`);
  await refreshPull(repo, p);
  const now = fake.now();
  Object.assign(p, { state: 'closed', closed_at: now, updated_at: now } satisfies Partial<PullState>);
}

export const pullHandlers: Handlers = {
  'pulls/list': list,
  'pulls/create': create,
  'pulls/get': get,
  'pulls/update': update,
  'pulls/list-files': listFiles,
};
