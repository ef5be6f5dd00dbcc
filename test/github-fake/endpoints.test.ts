/**
 * The fake's endpoints behave like GitHub's where the App depends on it: pull requests need an
 * existing head and share numbers with issues, merging moves the base branch, check runs keep
 * their annotations and refuse more than 50 at once, issues filter by state and labels, deploy
 * keys, permissions and secret scanning alerts round-trip. Every response is also checked
 * against the description's response schema (a mismatch would be a violation).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../helpers/github-fake/index.js';
import { appOctokit, tokenOctokit } from './clients.js';

let gh: GitHubFake;
let octokit: ReturnType<typeof tokenOctokit>;
let main: string;
const repo = { owner: 'acme', repo: 'api' };
const jwtOctokit = () => appOctokit(gh);

beforeAll(async () => {
  gh = await createGitHubFake();
  await gh.createRepo('acme', 'api', { files: { 'README.md': 'hello\n', '.env': 'A=1\n' } });
  main = (await gh.refSha('acme', 'api', 'main'))!;
  await gh.commit('acme', 'api', { branch: 'keywarden/rotate', parent: main, files: { '.env': null, '.env.example': 'A=\n' }, message: 'Remove .env' });
  octokit = tokenOctokit(gh, gh.createInstallationToken(1));
});
afterEach(() => gh.assertNoViolations());
afterAll(() => gh.close());

describe('pull requests', () => {
  it('opens one on an existing head, refuses a missing head and a duplicate', async () => {
    await expect(octokit.rest.pulls.create({ ...repo, head: 'nope', base: 'main', title: 'x' })).rejects.toMatchObject({ status: 422 });
    const { data: pr } = await octokit.rest.pulls.create({ ...repo, head: 'acme:keywarden/rotate', base: 'main', title: 'Rotate', body: 'Removes .env' });
    expect(pr).toMatchObject({ number: 1, state: 'open', head: { ref: 'keywarden/rotate' }, base: { ref: 'main', sha: main }, user: { login: 'keywarden[bot]' } });
    expect(pr).toMatchObject({ changed_files: 2, additions: 1, deletions: 1, commits: 1 });
    await expect(octokit.rest.pulls.create({ ...repo, head: 'keywarden/rotate', base: 'main', title: 'again' })).rejects.toMatchObject({ status: 422 });
  });

  it('lists by state, head and base; updates title, body and state', async () => {
    expect((await octokit.rest.pulls.list({ ...repo, head: 'acme:keywarden/rotate' })).data.map((p) => p.number)).toEqual([1]);
    expect((await octokit.rest.pulls.list({ ...repo, base: 'other' })).data).toEqual([]);
    await octokit.rest.pulls.update({ ...repo, pull_number: 1, title: 'Rotate A', state: 'closed' });
    expect((await octokit.rest.pulls.list({ ...repo })).data).toEqual([]);
    expect((await octokit.rest.pulls.list({ ...repo, state: 'closed' })).data.map((p) => p.title)).toEqual(['Rotate A']);
    await octokit.rest.pulls.update({ ...repo, pull_number: 1, state: 'open' });
  });

  it('follows the head branch while open; mergePull merges into the base', async () => {
    const tip = await gh.commit('acme', 'api', { branch: 'keywarden/rotate', files: { 'NOTES.md': 'n\n' } });
    expect((await octokit.rest.pulls.get({ ...repo, pull_number: 1 })).data.head.sha).toBe(tip);
    await gh.commit('acme', 'api', { branch: 'main', files: { 'other.txt': 'o\n' } });
    const merged = await gh.mergePull('acme', 'api', 1);
    expect(await gh.refSha('acme', 'api', 'main')).toBe(merged);
    expect(await gh.readFile('acme', 'api', 'main', '.env')).toBeUndefined();
    expect(await gh.readFile('acme', 'api', 'main', 'other.txt')).toBe('o\n');
    const { data } = await octokit.rest.pulls.get({ ...repo, pull_number: 1 });
    expect(data).toMatchObject({ state: 'closed', merged: true, merge_commit_sha: merged, head: { sha: tip } });
    expect(data.merged_at).toEqual(expect.any(String));
  });
});

describe('check runs', () => {
  const annotation = (line: number) => ({ path: 'README.md', start_line: line, end_line: line, annotation_level: 'failure' as const, message: `leak ${line}` });

  it('keeps annotations across updates and refuses more than 50 per request', async () => {
    const { data: run } = await octokit.rest.checks.create({ ...repo, name: 'Keywarden', head_sha: main, status: 'in_progress', output: { title: 'Scanning', summary: '…', annotations: [annotation(1)] } });
    await octokit.rest.checks.update({ ...repo, check_run_id: run.id, output: { title: 'Leaks', summary: '2', annotations: Array.from({ length: 50 }, (_, i) => annotation(i + 2)) } });
    await expect(
      octokit.rest.checks.update({ ...repo, check_run_id: run.id, output: { title: 'Leaks', summary: '2', annotations: Array.from({ length: 51 }, (_, i) => annotation(i)) } }),
    ).rejects.toMatchObject({ status: 422 });
    const { data } = await octokit.rest.checks.update({ ...repo, check_run_id: run.id, conclusion: 'failure', output: { title: 'Leaks', summary: 'done' } });
    expect(data).toMatchObject({ status: 'completed', conclusion: 'failure', output: { annotations_count: 51, title: 'Leaks' } });
    expect(data.completed_at).toEqual(expect.any(String));
    const all = await octokit.paginate(octokit.rest.checks.listAnnotations, { ...repo, check_run_id: run.id, per_page: 100 });
    expect(all.map((a) => a.start_line)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  });

  it('refuses completed without a conclusion and an unknown head; lists by ref', async () => {
    await expect(octokit.rest.checks.create({ ...repo, name: 'Keywarden', head_sha: main, status: 'completed' })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.checks.create({ ...repo, name: 'Keywarden', head_sha: 'f'.repeat(40) })).rejects.toMatchObject({ status: 422 });
    await octokit.rest.checks.create({ ...repo, name: 'Keywarden', head_sha: main, conclusion: 'success' });
    const { data } = await octokit.rest.checks.listForRef({ ...repo, ref: main });
    expect(data.check_runs.map((r) => r.conclusion)).toEqual(['success']);
    expect((await octokit.rest.checks.listForRef({ ...repo, ref: main, filter: 'all' })).data.total_count).toBe(2);
    expect(gh.checkRuns('acme', 'api')).toHaveLength(2);
  });
});

describe('issues and comments', () => {
  it('shares numbers with pull requests, filters by state and labels, lists pull requests too', async () => {
    const { data: issue } = await octokit.rest.issues.create({ ...repo, title: 'Leaked key', labels: ['keywarden', { name: 'security' }] });
    expect(issue.number).toBe(2);
    await octokit.rest.issues.create({ ...repo, title: 'Other', labels: ['keywarden'] });
    const labelled = await octokit.rest.issues.listForRepo({ ...repo, labels: 'keywarden,security' });
    expect(labelled.data.map((i) => i.number)).toEqual([2]);
    await octokit.rest.issues.update({ ...repo, issue_number: 3, state: 'closed' });
    expect((await octokit.rest.issues.listForRepo({ ...repo })).data.map((i) => i.number)).toEqual([2]);
    const all = (await octokit.rest.issues.listForRepo({ ...repo, state: 'all' })).data;
    expect(all.map((i) => [i.number, Boolean(i.pull_request)])).toEqual([
      [3, false],
      [2, false],
      [1, true],
    ]);
  });

  it('comments on issues and pull requests', async () => {
    await octokit.rest.issues.createComment({ ...repo, issue_number: 2, body: 'Rotated.' });
    gh.addComment('acme', 'api', 2, { body: '/keywarden ignore', user: 'alice' });
    const { data } = await octokit.rest.issues.listComments({ ...repo, issue_number: 2 });
    expect(data.map((c) => [c.user?.login, c.body])).toEqual([
      ['keywarden[bot]', 'Rotated.'],
      ['alice', '/keywarden ignore'],
    ]);
    expect((await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'On the PR' })).status).toBe(201);
    await expect(octokit.rest.issues.createComment({ ...repo, issue_number: 99, body: 'x' })).rejects.toMatchObject({ status: 404 });
  });
});

describe('the other reads', () => {
  it('answer schema-valid responses', async () => {
    expect((await octokit.rest.repos.listBranches(repo)).data.map((b) => b.name)).toContain('main');
    expect((await octokit.rest.issues.get({ ...repo, issue_number: 2 })).data.title).toBe('Leaked key');
    const [run] = gh.checkRuns('acme', 'api');
    expect((await octokit.rest.checks.get({ ...repo, check_run_id: run!.id })).data.name).toBe('Keywarden');
    const app = tokenOctokit(gh, ((await jwtOctokit().auth({ type: 'app' })) as { token: string }).token);
    expect((await app.rest.apps.listInstallations()).data.map((i) => i.id)).toEqual([1]);
    expect((await app.rest.apps.getInstallation({ installation_id: 1 })).data.account).toMatchObject({ login: 'acme' });
    await expect(app.rest.apps.getInstallation({ installation_id: 9 })).rejects.toMatchObject({ status: 404 });
  });
});

describe('deploy keys, permissions, secret scanning', () => {
  const pub = `ssh-ed25519 ${Buffer.alloc(51, 7).toString('base64')}`;

  it('adds, lists and deletes deploy keys; refuses a malformed or duplicate key', async () => {
    const helper = gh.addDeployKey('acme', 'api', { title: 'ci', key: `${pub} ci@example`, read_only: true });
    await expect(octokit.rest.repos.createDeployKey({ ...repo, key: pub })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.repos.createDeployKey({ ...repo, key: 'not a key' })).rejects.toMatchObject({ status: 422 });
    const other = `ssh-rsa ${Buffer.alloc(60, 1).toString('base64')}`;
    const { data: created } = await octokit.rest.repos.createDeployKey({ ...repo, title: 'deploy', key: other, read_only: false });
    expect((await octokit.rest.repos.listDeployKeys(repo)).data.map((k) => [k.id, k.key, k.read_only])).toEqual([
      [helper.id, pub, true],
      [created.id, other, false],
    ]);
    expect((await octokit.rest.repos.getDeployKey({ ...repo, key_id: created.id })).data.title).toBe('deploy');
    expect((await octokit.rest.repos.deleteDeployKey({ ...repo, key_id: helper.id })).status).toBe(204);
    await expect(octokit.rest.repos.deleteDeployKey({ ...repo, key_id: helper.id })).rejects.toMatchObject({ status: 404 });
  });

  it("reads a collaborator's permission", async () => {
    gh.setPermission('acme', 'api', 'alice', 'maintain');
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: 'alice' });
    expect(data).toMatchObject({ permission: 'write', role_name: 'maintain', user: { login: 'alice', permissions: { maintain: true, admin: false } } });
    expect((await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: 'bob' })).data.permission).toBe('none');
  });

  it('reads, resolves and locates a secret scanning alert; the secret only when the test set it', async () => {
    const location = { path: '.env', start_line: 1, end_line: 1, start_column: 3, end_column: 4, blob_sha: 'a'.repeat(40), commit_sha: main };
    const n = gh.addSecretScanningAlert('acme', 'api', { secret_type: 'aws_access_key_id', secret_type_display_name: 'AWS Access Key ID', locations: [location] });
    const { data } = await octokit.rest.secretScanning.getAlert({ ...repo, alert_number: n });
    expect(data).toMatchObject({ number: n, state: 'open', secret_type: 'aws_access_key_id' });
    expect(data).not.toHaveProperty('secret');
    await expect(octokit.rest.secretScanning.updateAlert({ ...repo, alert_number: n, state: 'resolved' })).rejects.toMatchObject({ status: 422 });
    const resolved = await octokit.rest.secretScanning.updateAlert({ ...repo, alert_number: n, state: 'resolved', resolution: 'revoked', resolution_comment: 'Revoked by Keywarden' });
    expect(resolved.data).toMatchObject({ state: 'resolved', resolution: 'revoked', resolution_comment: 'Revoked by Keywarden', resolved_by: { login: 'keywarden[bot]' } });
    const locations = await octokit.rest.secretScanning.listLocationsForAlert({ ...repo, alert_number: n });
    expect(locations.data).toEqual([{ type: 'commit', details: expect.objectContaining({ path: '.env', commit_sha: main }) }]);
    await expect(octokit.rest.secretScanning.getAlert({ ...repo, alert_number: 999 })).rejects.toMatchObject({ status: 404 });
  });
});
