/**
 * Injected faults fire on the matching requests, look like GitHub's (a secondary rate limit has
 * GitHub's message and `retry-after`), and every attempt is recorded with its arrival time, so a
 * test can check that the App retried and how long it waited.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubFake, SECONDARY_RATE_LIMIT_MESSAGE, type GitHubFake } from '../helpers/github-fake/index.js';
import { installationOctokit, tokenOctokit } from './clients.js';

let gh: GitHubFake;

beforeAll(async () => {
  gh = await createGitHubFake();
  await gh.createRepo('acme', 'api', { files: { 'README.md': 'hello\n' } });
});
afterEach(() => {
  gh.assertNoViolations();
  gh.faults.clear();
});
afterAll(() => gh.close());

function since(n: number, operationId: string) {
  return gh.requests.slice(n).filter((r) => r.operationId === operationId);
}

describe('faults', () => {
  it('a 502 fires once; the retry plugin retries and the attempts are recorded', async () => {
    const octokit = installationOctokit(gh, 1, { retry: { retryAfterBaseValue: 50 } });
    await octokit.rest.repos.get({ owner: 'acme', repo: 'api' });
    const n = gh.requests.length;
    const fault = gh.faults.add({ method: 'GET', route: '/repos/{owner}/{repo}', status: 502 });
    const { data } = await octokit.rest.repos.get({ owner: 'acme', repo: 'api' });
    expect(data.name).toBe('api');
    expect(fault.remaining).toBe(0);
    const tries = since(n, 'repos/get');
    expect(tries.map((r) => [r.status, r.fault])).toEqual([
      [502, true],
      [200, false],
    ]);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(45);
    expect(tries[0]!.token).toMatch(/^ghs_/);
  });

  it('a 403 secondary rate limit looks like GitHub and the throttling plugin waits retry-after', async () => {
    const octokit = installationOctokit(gh);
    const n = gh.requests.length;
    gh.faults.add({ route: '/repos/{owner}/{repo}/issues', method: 'POST', status: 403 });
    const { data } = await octokit.rest.issues.create({ owner: 'acme', repo: 'api', title: 'Leaked key' });
    expect(data.number).toBe(1);
    const tries = since(n, 'issues/create');
    expect(tries.map((r) => r.status)).toEqual([403, 201]);
    expect(tries[0]!.response).toMatchObject({ message: SECONDARY_RATE_LIMIT_MESSAGE });
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('sends the configured headers and bodies: a primary rate limit, a 429, a RegExp route, several times', async () => {
    const octokit = tokenOctokit(gh, gh.createInstallationToken(1));
    gh.faults.add({ route: /\/contents\//, status: 403, headers: { 'x-ratelimit-remaining': '0' } });
    type Failure = { status: number; response: { headers: Record<string, string>; data: { message: string } } };
    const primary = (await octokit.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'README.md' }).catch((e: unknown) => e)) as Failure;
    expect(primary).toMatchObject({ status: 403, response: { headers: { 'x-ratelimit-remaining': '0' }, data: { message: 'API rate limit exceeded for installation ID 1.' } } });
    expect(Number(primary.response.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);

    gh.faults.add({ status: 429, times: 2, headers: { 'retry-after': '7' }, body: { message: 'slow down' } });
    for (let i = 0; i < 2; i++) {
      await expect(octokit.rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({ status: 429, response: { headers: { 'retry-after': '7' }, data: { message: 'slow down' } } });
    }
    expect(gh.faults.pending).toBe(0);
    expect((await octokit.rest.repos.get({ owner: 'acme', repo: 'api' })).status).toBe(200);
  });

  it('counts REST calls: only matching method and route fire', async () => {
    const octokit = tokenOctokit(gh, gh.createInstallationToken(1));
    const f = gh.faults.add({ method: 'PATCH', route: '/repos/{owner}/{repo}/issues/{issue_number}', status: 500 });
    await octokit.rest.issues.get({ owner: 'acme', repo: 'api', issue_number: 1 });
    expect(f.remaining).toBe(1);
    await expect(octokit.rest.issues.update({ owner: 'acme', repo: 'api', issue_number: 1, state: 'closed' })).rejects.toMatchObject({ status: 500 });
    expect(f.remaining).toBe(0);
  });
});
