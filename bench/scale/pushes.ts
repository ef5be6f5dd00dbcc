/**
 * A repository's pushes for the burst, written straight into the fake's bare repository with one
 * `git fast-import` (and one `git log`) per repository instead of ~12 git runs per push through
 * `gh.commit` and `gh.pushEvent`: 2,000 pushes are ready in seconds, not minutes. The push payloads
 * are built by the fake's own `buildPushEvent` from what was imported, as `gh.pushEvent` builds them.
 */
import { runGit } from '../../src/git/run-git.js';
import { buildPushEvent, type GitHubFake, type WebhookDelivery } from '../../test/helpers/github-fake/index.js';

export interface PlannedCommit {
  /** Path → content, each a new file. */
  files: Record<string, string>;
  message: string;
}

const AUTHOR = { name: 'Octo Cat', email: 'octocat@users.noreply.localhost' };
const iso = (s: number): string => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Commits `commits` one on another on top of `branch` of `owner/name`, and returns each one's push
 * delivery (before = the previous commit, after = this one), in order.
 */
export async function importPushes(gh: GitHubFake, owner: string, name: string, branch: string, commits: readonly PlannedCommit[], epoch: number): Promise<Array<{ after: string; delivery: WebhookDelivery }>> {
  const state = gh.repoState(owner, name);
  const dir = state.git.dir;
  const tip = (await gh.refSha(owner, name, `heads/${branch}`))!;
  const who = (t: number): string => `${AUTHOR.name} <${AUTHOR.email}> ${t} +0000`;
  const stream: string[] = [];
  commits.forEach((c, i) => {
    const t = epoch + i;
    stream.push(`commit refs/heads/${branch}`, `mark :${i + 1}`, `author ${who(t)}`, `committer ${who(t)}`, `data ${Buffer.byteLength(c.message)}`, c.message);
    if (i === 0) stream.push(`from ${tip}`);
    for (const [p, content] of Object.entries(c.files)) stream.push(`M 100644 inline ${p}`, `data ${Buffer.byteLength(content)}`, content);
    stream.push('');
  });
  const imported = await runGit(dir, ['fast-import', '--quiet'], { input: `${stream.join('\n')}\n` });
  if (imported.code !== 0) throw new Error(`git fast-import into ${owner}/${name} failed: ${imported.stderr.slice(0, 500)}`);
  const log = await runGit(dir, ['log', '--format=%H %T %ct', `-n${commits.length}`, `refs/heads/${branch}`]);
  if (log.code !== 0) throw new Error(`git log of ${owner}/${name} failed: ${log.stderr.slice(0, 500)}`);
  const made = log.stdout.toString('utf8').trim().split('\n').reverse().map((l) => {
    const [sha, tree, ct] = l.split(' ');
    return { sha: sha!, tree: tree!, time: Number(ct) };
  });
  const repository = gh.repository(owner, name);
  let before = tip;
  return made.map((m, i) => {
    const c = commits[i]!;
    const delivery = buildPushEvent({
      installationId: repository.installationId,
      apiUrl: gh.apiUrl,
      repository,
      ref: `refs/heads/${branch}`,
      before,
      after: m.sha,
      forced: false,
      commits: [{ id: m.sha, tree_id: m.tree, message: c.message, timestamp: iso(m.time), author: AUTHOR, committer: AUTHOR, added: Object.keys(c.files), removed: [], modified: [] }],
    });
    before = m.sha;
    return { after: m.sha, delivery };
  });
}
