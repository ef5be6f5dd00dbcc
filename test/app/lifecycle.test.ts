/**
 * The App over a repository's life: the remediation PR is updated by a new push instead of
 * duplicated, a PR closed without merging is the team's choice and is not reopened; an
 * organisation's defaults apply to a repository without its own policy; a repository added to
 * the installation gets a first scan of its tree; more than 50 findings are annotated 50 per
 * request; `/keywarden rotate` rotates a key for a writer; /readyz and /metrics answer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAppHarness, type AppHarness, ghToken } from '../helpers/app-harness.js';
import { buildInstallationRepositoriesEvent, buildIssueCommentEvent } from '../helpers/github-fake/index.js';
import { tokenOctokit } from '../github-fake/clients.js';


describe('the App over a repository\'s life', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createAppHarness();
    await h.gh.createRepo('acme', 'svc', { files: { 'README.md': '# svc\n' } });
  });
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => h?.close());

  const push = async (repo: string, files: Record<string, string>, branch = 'main'): Promise<string> => {
    const before = (await h.gh.refSha('acme', repo, `heads/${branch}`))!;
    const after = await h.gh.commit('acme', repo, { branch, files });
    expect((await h.deliver(await h.gh.pushEvent('acme', repo, { ref: `refs/heads/${branch}`, before, after }))).status).toBe(202);
    await h.idle();
    return after;
  };
  const pulls = (repo: string) => [...h.gh.repoState('acme', repo).pulls.values()];

  it('updates the open remediation PR on a new push of the same leak, and never reopens a closed one', async () => {
    const token = ghToken('life-1');
    await push('svc', { 'a.env': `GH=${token}\n` });
    expect(pulls('svc')).toHaveLength(1);
    const first = pulls('svc')[0]!;
    const firstTip = await h.gh.refSha('acme', 'svc', `heads/${first.head.ref}`);
    // The same token again, in another file: the same PR, its branch moved on.
    await push('svc', { 'b.env': `GH=${token}\n` });
    expect(pulls('svc')).toHaveLength(1);
    expect(await h.gh.refSha('acme', 'svc', `heads/${first.head.ref}`)).not.toBe(firstTip);
    // Rebuilt on the new push, the fix still fixes the first file and now the second.
    for (const f of ['a.env', 'b.env']) expect(await h.gh.readFile('acme', 'svc', first.head.ref, f) ?? '').not.toContain(token);
    // Closed without merging: a further push of it opens nothing and reopens nothing.
    await h.gh.closePull('acme', 'svc', first.number);
    await push('svc', { 'c.env': `GH=${token}\n` });
    expect(pulls('svc')).toHaveLength(1);
    expect(pulls('svc')[0]!.state).toBe('closed');
    const check = h.gh.checkRuns('acme', 'svc').at(-1)!;
    expect(check.output.summary).toMatch(/closed without merging/);
  }, 90_000);

  it('applies the organisation\'s defaults from its .github repository', async () => {
    // The organisation's policy arrives by a push to its `.github` repository, which drops the
    // organisation policy the App cached (the 'none' an earlier repository's job read).
    await h.gh.createRepo('acme', '.github', { files: { 'README.md': '# org\n' } });
    await push('.github', { '.github/keywarden.yml': 'version: 1\nname: org-defaults\nsecrets:\n  on-leak:\n    - do: [open-issue]\n' });
    await h.gh.createRepo('acme', 'plain', { files: { 'README.md': '# plain\n' } });
    await push('plain', { 'x.env': `GH=${ghToken('life-org')}\n` });
    expect(pulls('plain')).toHaveLength(0);
    expect([...h.gh.repoState('acme', 'plain').issues.values()]).toHaveLength(1);
    expect(h.gh.checkRuns('acme', 'plain').at(-1)!.conclusion).toBe('neutral');
  }, 60_000);

  it('scans the tree of a repository added to the installation', async () => {
    const token = ghToken('life-added');
    const own = 'version: 1\nname: legacy\nsecrets:\n  on-leak:\n    - do: [revoke, open-pr, fail-check]\n';
    const info = await h.gh.createRepo('acme', 'legacy', { files: { '.github/keywarden.yml': own, 'README.md': '# legacy\n', 'config/prod.env': `GITHUB_TOKEN=${token}\n` } });
    const ev = buildInstallationRepositoriesEvent({ installationId: 1, account: 'acme', repositories: [{ name: 'legacy', id: info.id }] });
    expect((await h.deliver(ev)).status).toBe(202);
    await h.idle();
    expect(h.gh.revokedCredentials.filter((t) => t === token)).toHaveLength(1);
    expect(pulls('legacy')).toHaveLength(1);
    expect(pulls('legacy')[0]!.base.ref).toBe('main');
  }, 60_000);

  it('annotates more than 50 findings, 50 per request', async () => {
    await h.gh.createRepo('acme', 'many', { files: { 'README.md': '# many\n' } });
    const lines = Array.from({ length: 60 }, (_, i) => `T${i}=${ghToken(`life-many-${i}`)}`).join('\n');
    const n = h.gh.requests.length;
    const after = await push('many', { 'tokens.env': `${lines}\n` });
    const check = h.gh.checkRuns('acme', 'many').find((c) => c.head_sha === after)!;
    expect(check.annotations).toHaveLength(60);
    const writes = h.gh.requests.slice(n).filter((r) => r.route?.startsWith('/repos/{owner}/{repo}/check-runs'));
    expect(writes.map((r) => ((r.body as { output?: { annotations?: unknown[] } }).output?.annotations ?? []).length)).toEqual([50, 10]);
  }, 90_000);

  it('rotates a key on /keywarden rotate from a writer', async () => {
    const kw = h.kw;
    expect((await kw('keys', 'create', '--spec', 'AES_256', '--alias', 'orders', '--reason', 'e2e')).code).toBe(0);
    expect((await kw('keys', 'create', '--spec', 'AES_256', '--alias', 'billing', '--reason', 'e2e')).code).toBe(0);
    const policy = 'version: 1\nname: orders\nkeys:\n  - name: orders\n    match: { alias: "ord*" }\n';
    await h.gh.createRepo('acme', 'orders', { files: { '.github/keywarden.yml': policy } });
    h.gh.setPermission('acme', 'orders', 'ops', 'admin');
    const octokit = tokenOctokit(h.gh, h.gh.createInstallationToken(1));
    const issue = await octokit.request('POST /repos/{owner}/{repo}/issues', { owner: 'acme', repo: 'orders', title: 'rotate please' });
    const say = async (id: number, body: string): Promise<string> => {
      const ev = buildIssueCommentEvent({ repository: { owner: 'acme', name: 'orders', id: h.gh.repository('acme', 'orders').id }, installationId: 1, sender: 'ops', issue: { number: issue.data.number }, comment: { id, body, user: 'ops' } });
      expect((await h.deliver(ev)).status).toBe(202);
      await h.idle();
      return h.gh.repoState('acme', 'orders').comments.filter((c) => c.user === h.gh.botLogin).at(-1)!.body;
    };
    expect(await say(777, '/keywarden rotate orders')).toMatch(/^Done: `orders` rotated in place; version 2 is current/);
    // Another team's key, not named by this repository's policy: refused.
    expect(await say(778, '/keywarden rotate billing')).toMatch(/not a key this repository's policy names/);
  }, 60_000);

  it('answers /readyz and /metrics', async () => {
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/keywarden_webhook_deliveries_total\{event="push",outcome="queued"\} \d+/);
    expect(metrics).toMatch(/keywarden_actions_total\{type="revoke",outcome="done"\} \d+/);
    expect(metrics).toMatch(/keywarden_queue_depth/);
    expect(metrics).toMatch(/keywarden_webhook_to_action_seconds_count \d+/);
  });
});
