/**
 * The delivery builders: each payload passes the description's webhook schema, carries the
 * fake's repository and installation, and `signDelivery` signs it so Probot accepts it. End to
 * end: Probot, pointed at the fake, verifies a signed push, takes an installation token for the
 * payload's installation and creates a check run.
 */
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCheckRunEvent,
  buildInstallationEvent,
  buildInstallationRepositoriesEvent,
  buildIssueCommentEvent,
  buildSecretScanningAlertEvent,
  createGitHubFake,
  signDelivery,
  validateWebhookPayload,
  type GitHubFake,
  type WebhookDelivery,
} from '../helpers/github-fake/index.js';

let gh: GitHubFake;
let first: string;
let second: string;

beforeAll(async () => {
  gh = await createGitHubFake();
  await gh.createRepo('acme', 'api', { installationId: 7, files: { 'README.md': 'hello\n', 'old.txt': 'old\n' } });
  first = (await gh.refSha('acme', 'api', 'main'))!;
  second = await gh.commit('acme', 'api', { branch: 'main', files: { '.env': 'A=1\n', 'old.txt': null, 'README.md': 'hi\n' }, message: 'Add env' });
});
afterEach(() => gh.assertNoViolations());
afterAll(() => gh.close());

function schemaProblems(d: WebhookDelivery): string[] {
  return validateWebhookPayload(d.name, d.payload.action as string | undefined, d.payload);
}

describe('delivery builders', () => {
  it('pushEvent reads before, after and the commits from git', async () => {
    const d = await gh.pushEvent('acme', 'api');
    expect(d.name).toBe('push');
    expect(d.payload).toMatchObject({ ref: 'refs/heads/main', before: first, after: second, created: false, forced: false, installation: { id: 7 } });
    expect(d.payload.commits).toEqual([expect.objectContaining({ id: second, message: 'Add env', added: ['.env'], removed: ['old.txt'], modified: ['README.md'] })]);
    expect(d.payload.repository).toMatchObject({ full_name: 'acme/api', name: 'api', owner: { login: 'acme' }, default_branch: 'main', private: true, clone_url: gh.gitUrl('acme', 'api') });
    expect(JSON.stringify(d.payload)).not.toContain('Codertocat/Hello-World');
    expect(schemaProblems(d)).toEqual([]);
    const created = await gh.pushEvent('acme', 'api', { before: '0'.repeat(40) });
    expect(created.payload).toMatchObject({ created: true });
    expect((created.payload.commits as unknown[]).length).toBe(2);
    const forced = await gh.pushEvent('acme', 'api', { before: await gh.commit('acme', 'api', { branch: 'side', parent: first, files: { x: 'x' } }) });
    expect(forced.payload.forced).toBe(true);
  });

  it('pullRequestEvent reflects the fake pull request', async () => {
    await gh.commit('acme', 'api', { branch: 'fix', parent: second, files: { '.env': null } });
    const token = gh.createInstallationToken(7);
    const res = await fetch(`${gh.apiUrl}/repos/acme/api/pulls`, { method: 'POST', headers: { authorization: `token ${token}` }, body: JSON.stringify({ head: 'fix', base: 'main', title: 'Remove .env' }) });
    const { number } = (await res.json()) as { number: number };
    for (const action of ['opened', 'synchronize', 'reopened'] as const) {
      const d = await gh.pullRequestEvent('acme', 'api', number, action);
      expect(d.payload).toMatchObject({ action, number, pull_request: { number, title: 'Remove .env', head: { ref: 'fix' }, base: { ref: 'main', sha: second } } });
      expect(schemaProblems(d)).toEqual([]);
    }
  });

  it('the other builders give schema-valid payloads with the given fields', () => {
    const repository = gh.repository('acme', 'api');
    const common = { installationId: 7, apiUrl: gh.apiUrl };
    const deliveries = [
      buildCheckRunEvent({ ...common, action: 'requested_action', repository, checkRun: { id: 5, name: 'Keywarden', head_sha: second }, identifier: 'rotate', app: { id: gh.appId, slug: gh.appSlug } }),
      buildIssueCommentEvent({ ...common, repository, issue: { number: 3, pullRequest: true }, comment: { id: 9, body: '/keywarden rotate', user: 'alice' } }),
      buildSecretScanningAlertEvent({ ...common, repository, alert: { number: 1, secret_type: 'github_personal_access_token' } }),
      buildInstallationEvent({ ...common, account: 'acme', repositories: [{ name: 'api' }] }),
      buildInstallationRepositoriesEvent({ ...common, account: 'acme', repositories: [{ name: 'web', private: false }] }),
    ];
    for (const d of deliveries) expect([d.name, schemaProblems(d)]).toEqual([d.name, []]);
    const [check, comment, alert, install, added] = deliveries.map((d) => d.payload);
    expect(check).toMatchObject({ action: 'requested_action', requested_action: { identifier: 'rotate' }, check_run: { id: 5, head_sha: second, app: { id: gh.appId } } });
    expect(comment).toMatchObject({ action: 'created', issue: { number: 3, pull_request: expect.any(Object) }, comment: { body: '/keywarden rotate', user: { login: 'alice' } }, sender: { login: 'alice' } });
    expect(alert).toMatchObject({ action: 'created', alert: { number: 1, secret_type: 'github_personal_access_token' }, repository: { full_name: 'acme/api' } });
    expect(alert!.alert).not.toHaveProperty('secret');
    expect(install).toMatchObject({ action: 'created', installation: { id: 7, account: { login: 'acme' } }, repositories: [{ full_name: 'acme/api' }] });
    expect(added).toMatchObject({ action: 'added', repositories_added: [{ full_name: 'acme/web', private: false }] });
  });

  it('signDelivery gives GitHub headers and an HMAC-SHA256 signature', () => {
    const d = buildInstallationEvent({ installationId: 7, account: 'acme', repositories: [] });
    const signed = signDelivery(d, 'shh', { id: 'delivery-1' });
    expect(signed.headers).toMatchObject({ 'x-github-event': 'installation', 'x-github-delivery': 'delivery-1', 'content-type': 'application/json' });
    expect(signed.headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(JSON.parse(signed.body)).toEqual(d.payload);
  });
});

describe('Probot against the fake', () => {
  it('verifies a signed push and acts with an installation token it requests itself', async () => {
    const secret = 'webhook-secret';
    const probot = new Probot({
      appId: gh.appId,
      privateKey: gh.privateKey,
      secret,
      baseUrl: gh.apiUrl,
      logLevel: 'fatal',
      Octokit: ProbotOctokit.defaults({ throttle: { enabled: false }, retry: { enabled: false } }),
    });
    const seen: string[] = [];
    probot.on('push', async (context) => {
      const { after, repository } = context.payload;
      seen.push(after);
      await context.octokit.rest.checks.create({ owner: repository.owner!.login, repo: repository.name, name: 'Keywarden', head_sha: after, conclusion: 'success' });
    });
    const delivery = await gh.pushEvent('acme', 'api');
    const signed = signDelivery(delivery, secret);
    const from = gh.requests.length;
    await probot.webhooks.verifyAndReceive({ id: signed.headers['x-github-delivery'], name: 'push', signature: signed.headers['x-hub-signature-256'], payload: signed.body });
    expect(seen).toEqual([second]);
    expect(gh.requests.slice(from).map((r) => [r.operationId, r.auth, r.status])).toEqual([
      ['apps/create-installation-access-token', 'app', 201],
      ['checks/create', 'installation', 201],
    ]);
    expect(gh.checkRuns('acme', 'api')).toEqual([expect.objectContaining({ head_sha: second, conclusion: 'success', installationId: 7 })]);
    await expect(probot.webhooks.verifyAndReceive({ id: 'x', name: 'push', signature: signDelivery(delivery, 'wrong').headers['x-hub-signature-256'], payload: signed.body })).rejects.toThrow();
  });
});
