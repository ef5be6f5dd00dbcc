/**
 * The App on pull requests and what people do with them: the `keywarden` check (failure with
 * annotations at file and line; success for a clean PR), judged by the default branch's policy
 * only (a PR that weakens the policy is not obeyed; a broken policy on the default branch fails
 * the check at its line), the check's buttons and comment commands for writers only, and GitHub's
 * own secret scanning alerts as findings.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAppHarness, expectNoCanaryInApp, type AppHarness, ghToken } from '../helpers/app-harness.js';
import { buildCheckRunEvent, buildIssueCommentEvent, buildSecretScanningAlertEvent } from '../helpers/github-fake/index.js';
import { tokenOctokit } from '../github-fake/clients.js';

const POLICY = `version: 1
name: pr-policy
secrets:
  on-leak:
    - do: [revoke, open-pr, fail-check]
      message: No credentials in the code.
`;

describe('the App on pull requests', () => {
  let h: AppHarness;
  let n = 0;
  beforeAll(async () => {
    h = await createAppHarness();
    await h.gh.createRepo('acme', 'shop', { files: { 'README.md': '# shop\n', '.github/keywarden.yml': POLICY } });
    h.gh.setPermission('acme', 'shop', 'maintainer', 'write');
    h.gh.setPermission('acme', 'shop', 'stranger', 'read');
  });
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => h?.close());

  /** A branch with `files`, and a PR from it (opened through the REST API, as a person would). */
  const openPr = async (files: Record<string, string>): Promise<{ number: number; head: string }> => {
    const branch = `feature-${++n}`;
    const base = (await h.gh.refSha('acme', 'shop', 'heads/main'))!;
    const head = await h.gh.commit('acme', 'shop', { branch, files, parent: base });
    const octokit = tokenOctokit(h.gh, h.gh.createInstallationToken(1));
    const pr = await octokit.request('POST /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'shop', head: branch, base: 'main', title: `change ${n}` });
    expect((await h.deliver(await h.gh.pullRequestEvent('acme', 'shop', pr.data.number, 'opened'))).status).toBe(202);
    await h.idle();
    return { number: pr.data.number, head };
  };
  const checkOf = (sha: string) => h.gh.checkRuns('acme', 'shop').filter((c) => c.head_sha === sha).at(-1)!;

  it('fails the check with an annotation at the line, and revokes nothing from a PR check', async () => {
    const token = ghToken('pr-1');
    const { head } = await openPr({ 'src/client.ts': `// client\nexport const token = '${token}';\n` });
    const check = checkOf(head);
    expect(check.conclusion).toBe('failure');
    expect(check.annotations).toEqual([expect.objectContaining({ path: 'src/client.ts', start_line: 2, annotation_level: 'failure' })]);
    expect(check.actions.map((a) => a.identifier)).toEqual(['revoke-rotate', 'mark-test-key']);
    expect(h.gh.revokedCredentials).not.toContain(token);
    expectNoCanaryInApp(h, token);
  }, 60_000);

  it("checks a fork's PR, whose head is only at refs/pull/N/head", async () => {
    const token = ghToken('pr-fork');
    const base = (await h.gh.refSha('acme', 'shop', 'heads/main'))!;
    const { number, head } = await h.gh.openForkPull('acme', 'shop', { forkOwner: 'outsider', branch: 'patch-1', parent: base, files: { 'src/fork.ts': `// from a fork\nexport const t = '${token}';\n` } });
    expect(Object.values(await h.gh.branches('acme', 'shop'))).not.toContain(head);
    const delivery = await h.gh.pullRequestEvent('acme', 'shop', number, 'opened');
    expect(((delivery.payload.pull_request as { head: { repo: { id: number } } }).head.repo.id)).not.toBe(h.gh.repository('acme', 'shop').id);
    expect((await h.deliver(delivery)).status).toBe(202);
    await h.idle();
    const check = checkOf(head);
    expect(check.conclusion).toBe('failure');
    expect(check.annotations).toEqual([expect.objectContaining({ path: 'src/fork.ts', start_line: 2 })]);
    expect(h.gh.revokedCredentials).not.toContain(token);
  }, 60_000);

  it('passes a clean PR', async () => {
    const { head } = await openPr({ 'src/ok.ts': 'export const ok = true;\n' });
    expect(checkOf(head).conclusion).toBe('success');
  }, 60_000);

  it('is judged by the default branch: a PR that ignores its own path is not obeyed', async () => {
    const token = ghToken('pr-weaken');
    const weakened = `version: 1\nname: pr-policy\nsecrets:\n  ignore-paths: ["src/**"]\n  on-leak:\n    - do: [open-pr]\n`;
    const { head } = await openPr({ '.github/keywarden.yml': weakened, 'src/sneaky.ts': `export const t = '${token}';\n` });
    expect(checkOf(head).conclusion).toBe('failure');
  }, 60_000);

  it('only writers may press the buttons; Revoke & rotate now revokes', async () => {
    const token = ghToken('pr-button');
    const { number, head } = await openPr({ 'deploy.env': `GH=${token}\n` });
    const check = checkOf(head);
    const press = (sender: string) =>
      buildCheckRunEvent({ action: 'requested_action', repository: { owner: 'acme', name: 'shop', id: h.gh.repository('acme', 'shop').id }, installationId: 1, sender, identifier: 'revoke-rotate', checkRun: { id: check.id, name: 'keywarden', head_sha: head } });
    const byStranger = press('stranger');
    (byStranger.payload.check_run as { pull_requests: unknown[] }).pull_requests = [{ number, head: { ref: `feature-${n}`, sha: head }, base: { ref: 'main', sha: head } }];
    expect((await h.deliver(byStranger)).status).toBe(202);
    await h.idle();
    expect(h.gh.revokedCredentials).not.toContain(token);
    const byMaintainer = press('maintainer');
    (byMaintainer.payload.check_run as { pull_requests: unknown[] }).pull_requests = [{ number, head: { ref: `feature-${n}`, sha: head }, base: { ref: 'main', sha: head } }];
    expect((await h.deliver(byMaintainer)).status).toBe(202);
    await h.idle();
    expect(h.gh.revokedCredentials.filter((t) => t === token)).toHaveLength(1);
  }, 60_000);

  it('Mark as test key opens a PR adding an expiring exception owned by the user', async () => {
    const token = ghToken('pr-testkey');
    const { head } = await openPr({ 'test/fixture.env': `GH=${token}\n` });
    const check = checkOf(head);
    const ev = buildCheckRunEvent({ action: 'requested_action', repository: { owner: 'acme', name: 'shop', id: h.gh.repository('acme', 'shop').id }, installationId: 1, sender: 'maintainer', identifier: 'mark-test-key', checkRun: { id: check.id, name: 'keywarden', head_sha: head } });
    expect((await h.deliver(ev)).status).toBe(202);
    await h.idle();
    const pr = [...h.gh.repoState('acme', 'shop').pulls.values()].find((p) => p.head.ref.startsWith('keywarden/test-key-'))!;
    expect(pr.base.ref).toBe('main');
    const policy = (await h.gh.readFile('acme', 'shop', pr.head.ref, '.github/keywarden.yml'))!;
    expect(policy).toMatch(/owner: maintainer@users\.noreply\.github\.com/);
    expect(policy).toMatch(/expires: \d{4}-\d{2}-\d{2}/);
    expect(policy).toMatch(/fingerprint: sha256:[0-9a-f]{64}/);
    expect(policy).toContain('No credentials in the code.');
    expect(policy).not.toContain(token);
  }, 60_000);

  it('answers comment commands from writers and politely refuses others', async () => {
    const comment = (user: string, body: string, id: number) =>
      buildIssueCommentEvent({ repository: { owner: 'acme', name: 'shop', id: h.gh.repository('acme', 'shop').id }, installationId: 1, sender: user, issue: { number: 1, pullRequest: true }, comment: { id, body, user } });
    expect((await h.deliver(comment('stranger', '/keywarden explain', 9001))).status).toBe(202);
    expect((await h.deliver(comment('maintainer', 'please look\n/keywarden explain', 9002))).status).toBe(202);
    await h.idle();
    const replies = h.gh.repoState('acme', 'shop').comments.filter((c) => c.user === h.gh.botLogin).map((c) => c.body);
    expect(replies.some((b) => /^Sorry @stranger/.test(b))).toBe(true);
    expect(replies.some((b) => /judged by `.github\/keywarden.yml` from this repository's default branch/.test(b) && /No credentials in the code/.test(b))).toBe(true);
  }, 60_000);

  it('fails the check at the line of a broken policy on the default branch', async () => {
    await h.gh.createRepo('acme', 'broken', { files: { '.github/keywarden.yml': 'version: 1\nname: broken\nsecrets:\n  on-leak:\n    - do: [explode]\n' } });
    const before = (await h.gh.refSha('acme', 'broken', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'broken', { branch: 'main', files: { 'a.txt': 'hello\n' } });
    expect((await h.deliver(await h.gh.pushEvent('acme', 'broken', { before, after }))).status).toBe(202);
    await h.idle();
    const check = h.gh.checkRuns('acme', 'broken').at(-1)!;
    expect(check.conclusion).toBe('failure');
    expect(check.output.title).toBe('The key policy is broken');
    expect(check.annotations[0]).toMatchObject({ path: '.github/keywarden.yml', start_line: 5 });
  }, 60_000);

  it('takes a GitHub secret scanning alert as a finding and resolves it once the token is revoked', async () => {
    const token = ghToken('alert-1');
    const before = (await h.gh.refSha('acme', 'shop', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'shop', { branch: 'main', files: { 'ops/notes.md': `# ops\n\ntoken: ${token}\n` } });
    const number = h.gh.addSecretScanningAlert('acme', 'shop', {
      secret_type: 'github_personal_access_token',
      locations: [{ path: 'ops/notes.md', start_line: 3, end_line: 3, start_column: 8, end_column: 8 + token.length, blob_sha: '0'.repeat(40), commit_sha: after }],
    });
    void before;
    const ev = buildSecretScanningAlertEvent({ repository: { owner: 'acme', name: 'shop', id: h.gh.repository('acme', 'shop').id }, installationId: 1, alert: { number, secret_type: 'github_personal_access_token' } });
    expect((await h.deliver(ev)).status).toBe(202);
    await h.idle();
    expect(h.gh.revokedCredentials.filter((t) => t === token)).toHaveLength(1);
    const alert = h.gh.repoState('acme', 'shop').alerts.get(number)!;
    expect(alert.state).toBe('resolved');
    expect(alert.resolution).toBe('revoked');
    expectNoCanaryInApp(h, token);
  }, 60_000);
});
