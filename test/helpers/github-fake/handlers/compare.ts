/**
 * Comparisons computed from the real git repository, with GitHub's three-dot semantics: commits
 * and files are those of `merge-base(base, head)..head`; `ahead_by`/`behind_by` count each side.
 * Without paging parameters the commits are the most recent `limits.commits` (oldest first);
 * with them, pages of every commit, files only on the first page.
 */
import type { FileDiff } from '../bare-repo.js';
import { commitJson, diffEntryJson, repoApi, repoHtml } from '../shapes.js';
import type { RepoState } from '../state.js';
import { notFound, ok, paginate } from './reply.js';
import { onRepo, type Handlers } from './types.js';

/** A branch name first (as GitHub reads `base` and `head`), then any revision (a sha, a tag). */
export async function resolveRevision(repo: RepoState, rev: string): Promise<string | undefined> {
  // A full sha is looked up as one first (a branch named like a sha is GitHub's corner, not ours).
  if (/^[0-9a-f]{40}$/.test(rev)) return (await repo.git.resolve(rev)) ?? (await repo.git.branchTip(rev));
  return (await repo.git.branchTip(rev)) ?? (await repo.git.resolve(rev));
}

/** Files of the three-dot diff `base...head`. */
export async function threeDotFiles(repo: RepoState, base: string, head: string, patchBytes: number): Promise<FileDiff[] | undefined> {
  const mb = await repo.git.mergeBase(base, head);
  return mb ? repo.git.diff(mb, head, patchBytes) : undefined;
}

function splitBasehead(params: Record<string, unknown>): { base: string; head: string } | undefined {
  if (typeof params.base === 'string' && typeof params.head === 'string') return { base: params.base, head: params.head };
  const bh = String(params.basehead ?? '');
  const at = bh.indexOf('...');
  return at > 0 ? { base: bh.slice(0, at), head: bh.slice(at + 3) } : undefined;
}

const compare = onRepo(async (input, repo) => {
  const names = splitBasehead(input.params);
  if (!names) return notFound();
  const base = await resolveRevision(repo, names.base);
  const head = await resolveRevision(repo, names.head);
  if (!base || !head) return notFound();
  const mb = await repo.git.mergeBase(base, head);
  if (!mb) return notFound(`No common ancestor between ${names.base} and ${names.head}.`);
  const sides = await repo.git.countSides(base, head);
  const aheadBy = sides.right;
  const behindBy = sides.left;
  const status = aheadBy === 0 && behindBy === 0 ? 'identical' : behindBy === 0 ? 'ahead' : aheadBy === 0 ? 'behind' : 'diverged';
  const paging = input.query.page !== undefined || input.query.per_page !== undefined;
  const { limits } = input.fake;
  let commits = await repo.git.log([`${mb}..${head}`], paging ? undefined : limits.commits);
  let headers: Record<string, string> = {};
  if (paging) ({ page: commits, headers } = paginate(commits, input));
  const firstPage = !paging || Number(input.query.page ?? 1) === 1;
  const files = firstPage ? (await repo.git.diff(mb, head, limits.patchBytes)).slice(0, limits.files) : undefined;
  const [baseInfo, mbInfo] = await repo.git.commits([base, mb]);
  const r = repoApi(input.fake, repo);
  const html = repoHtml(input.fake, repo);
  const spec = `${names.base}...${names.head}`;
  const body = {
    url: `${r}/compare/${spec}`,
    html_url: `${html}/compare/${spec}`,
    permalink_url: `${html}/compare/${repo.owner}:${base.slice(0, 7)}...${repo.owner}:${head.slice(0, 7)}`,
    diff_url: `${html}/compare/${spec}.diff`,
    patch_url: `${html}/compare/${spec}.patch`,
    base_commit: commitJson(input.fake, repo, baseInfo!),
    merge_base_commit: commitJson(input.fake, repo, mbInfo!),
    status,
    ahead_by: aheadBy,
    behind_by: behindBy,
    total_commits: aheadBy,
    commits: commits.map((c) => commitJson(input.fake, repo, c)),
    ...(files ? { files: files.map((f) => diffEntryJson(input.fake, repo, head, f)) } : {}),
  };
  return ok(body, 200, headers);
});

export const compareHandlers: Handlers = {
  'repos/compare-commits-with-basehead': compare,
  'repos/compare-commits': compare,
};
