/**
 * The fake's credentials end to end: Probot's Octokit with `{ appId, privateKey, installationId }`
 * signs a JWT, asks the fake for an installation token and uses it; the fake checks the JWT
 * signature and issuer, refuses what GitHub refuses, and records the token of every request.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../helpers/github-fake/index.js';
import { appOctokit, installationOctokit, tokenOctokit } from './clients.js';

let gh: GitHubFake;

beforeAll(async () => {
  gh = await createGitHubFake();
  await gh.createRepo('acme', 'api', { files: { 'README.md': 'hello\n' } });
  await gh.createRepo('acme', 'web', { files: { 'README.md': 'web\n' } });
  await gh.createRepo('other', 'repo', { installationId: 2, files: { 'a.txt': 'a\n' } });
});
afterEach(() => gh.assertNoViolations());
afterAll(() => gh.close());

describe('app authentication', () => {
  it('an installation Octokit gets its own token with a JWT and uses it', async () => {
    const from = gh.requests.length;
    const octokit = installationOctokit(gh);
    const { data } = await octokit.rest.repos.get({ owner: 'acme', repo: 'api' });
    expect(data).toMatchObject({ full_name: 'acme/api', default_branch: 'main', private: true, visibility: 'private' });
    const [tokenReq, repoReq] = gh.requests.slice(from);
    expect(tokenReq).toMatchObject({ method: 'POST', route: '/app/installations/{installation_id}/access_tokens', auth: 'app', status: 201 });
    const token = (tokenReq!.response as { token: string }).token;
    expect(token).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    expect(repoReq).toMatchObject({ operationId: 'repos/get', auth: 'installation', installationId: 1, token, status: 200 });
  });

  it('the App JWT reads /app and a repository installation', async () => {
    const octokit = appOctokit(gh);
    expect((await octokit.rest.apps.getAuthenticated()).data).toMatchObject({ id: gh.appId, slug: 'keywarden' });
    expect((await octokit.rest.apps.getRepoInstallation({ owner: 'other', repo: 'repo' })).data).toMatchObject({ id: 2, app_id: gh.appId });
  });

  it('refuses a JWT signed with another key, and a JWT where a token belongs', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = appOctokit({ ...gh, privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() });
    await expect(forged.rest.apps.getAuthenticated()).rejects.toMatchObject({ status: 401 });
    const { token: jwt } = (await appOctokit(gh).auth({ type: 'app' })) as { token: string };
    await expect(tokenOctokit(gh, jwt).rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({ status: 403 });
  });

  it('answers 401 without a credential or with an unknown or expired token', async () => {
    await expect(tokenOctokit(gh).rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({ status: 401 });
    await expect(tokenOctokit(gh, 'ghs_notissued').rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({ status: 401 });
    const expired = gh.createInstallationToken(1, { ttlMs: -1 });
    await expect(tokenOctokit(gh, expired).rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({ status: 401 });
  });

  it("hides another installation's repositories (404), and a token limited to some repositories sees only those", async () => {
    const octokit = tokenOctokit(gh, gh.createInstallationToken(1));
    await expect(octokit.rest.repos.get({ owner: 'other', repo: 'repo' })).rejects.toMatchObject({ status: 404 });
    const limited = tokenOctokit(gh, gh.createInstallationToken(1, { repositories: ['web'] }));
    await expect(limited.rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({ status: 404 });
    expect((await limited.rest.repos.get({ owner: 'acme', repo: 'web' })).status).toBe(200);
  });

  it('lists the installation repositories in pages with a Link header', async () => {
    const octokit = tokenOctokit(gh, gh.createInstallationToken(1));
    const first = await octokit.rest.apps.listReposAccessibleToInstallation({ per_page: 1 });
    expect(first.data.total_count).toBe(2);
    expect(first.headers.link).toContain('rel="next"');
    const all = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 1 });
    expect(all.map((r) => r.full_name)).toEqual(['acme/api', 'acme/web']);
  });

  it('takes credential revocations only unauthenticated, as GitHub does', async () => {
    const creds = ['ghp_fakefakefakefakefakefakefakefake0000'];
    await expect(tokenOctokit(gh, gh.createInstallationToken(1)).rest.credentials.revoke({ credentials: creds })).rejects.toMatchObject({ status: 403 });
    expect(gh.revokedCredentials).toEqual([]);
    expect((await tokenOctokit(gh).rest.credentials.revoke({ credentials: creds })).status).toBe(202);
    expect(gh.revokedCredentials).toEqual(creds);
  });
});
