/**
 * The fake checks every request against GitHub's OpenAPI description: these requests are wrong
 * and each must become a violation (so the App's test fails), with a message that names the
 * problem, and be answered 500.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handlers } from '../helpers/github-fake/handlers/index.js';
import { createGitHubFake, type GitHubFake } from '../helpers/github-fake/index.js';
import { loadGitHubSpec } from '../helpers/github-fake/openapi-validate.js';
import { tokenOctokit } from './clients.js';

let gh: GitHubFake;
let octokit: ReturnType<typeof tokenOctokit>;
let head: string;

beforeAll(async () => {
  gh = await createGitHubFake();
  await gh.createRepo('acme', 'api', { files: { 'README.md': 'hello\n' } });
  head = (await gh.refSha('acme', 'api', 'main'))!;
  octokit = tokenOctokit(gh, gh.createInstallationToken(1));
});
beforeEach(() => {
  gh.violations.length = 0;
});
afterAll(() => gh.close());

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as { status: number }).status;
  }
}

describe('request validation', () => {
  it('catches a check run with status "bogus"', async () => {
    const req = octokit.request('POST /repos/{owner}/{repo}/check-runs', { owner: 'acme', repo: 'api', name: 'kw', head_sha: head, status: 'bogus' as 'queued' });
    expect(await status(req)).toBe(500);
    expect(gh.violations).toEqual([
      expect.objectContaining({ kind: 'request', operationId: 'checks/create', problems: ['body/status must be one of "queued", "in_progress", "completed"'] }),
    ]);
    expect(() => gh.assertNoViolations()).toThrow(/checks\/create.*body\/status must be one of/);
  });

  it('catches a pull request without head', async () => {
    const req = octokit.request('POST /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'api', base: 'main', title: 'x' } as never);
    expect(await status(req)).toBe(500);
    expect(gh.violations[0]).toMatchObject({ operationId: 'pulls/create', problems: ["body is missing required property 'head'"] });
  });

  it('catches an unknown route and a wrong method', async () => {
    expect(await status(octokit.request('GET /repos/{owner}/{repo}/secret-keys', { owner: 'acme', repo: 'api' }))).toBe(500);
    expect(await status(octokit.request('PUT /repos/{owner}/{repo}', { owner: 'acme', repo: 'api' }))).toBe(500);
    expect(gh.violations.map((v) => [v.kind, v.problems[0]])).toEqual([
      ['route', 'no such route in the REST API'],
      ['route', 'no PUT here (GitHub has GET, PATCH, DELETE)'],
    ]);
  });

  it('catches a misspelt body field, a nested bad value and an unknown query parameter', async () => {
    const run = octokit.request('POST /repos/{owner}/{repo}/check-runs', {
      owner: 'acme',
      repo: 'api',
      name: 'kw',
      head_sha: head,
      conclusoin: 'success',
      output: { title: 't', summary: 's', annotations: [{ path: 'a', start_line: 1, end_line: 1, annotation_level: 'error' as 'failure', message: 'm' }] },
    } as never);
    expect(await status(run)).toBe(500);
    expect(await status(octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { owner: 'acme', repo: 'api', path: 'README.md', branch: 'main' }))).toBe(500);
    expect(gh.violations.map((v) => v.problems)).toEqual([
      ["body has unknown property 'conclusoin'", 'body/output/annotations/0/annotation_level must be one of "notice", "warning", "failure"'],
      ["query has unknown property 'branch'"],
    ]);
  });

  it('catches a bad path parameter type and a body where none is taken', async () => {
    expect(await status(octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: 'acme', repo: 'api', pull_number: 'first' as unknown as number }))).toBe(500);
    const res = await fetch(`${gh.apiUrl}/repos/acme/api`, { method: 'GET', headers: { authorization: `token ${gh.createInstallationToken(1)}`, 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    const del = await fetch(`${gh.apiUrl}/repos/acme/api/keys/1`, { method: 'DELETE', headers: { authorization: `token ${gh.createInstallationToken(1)}` }, body: '{"x":1}' });
    expect(del.status).toBe(500);
    expect(gh.violations.map((v) => v.problems[0])).toEqual(['path/pull_number must be integer', 'body was sent, but this operation takes no JSON body']);
  });

  it('validates before faults and credentials: a bad request is a violation even unauthenticated', async () => {
    gh.faults.add({ route: '/repos/{owner}/{repo}/pulls', status: 502 });
    const req = tokenOctokit(gh).request('POST /repos/{owner}/{repo}/pulls', { owner: 'acme', repo: 'api', base: 'main' } as never);
    expect(await status(req)).toBe(500);
    expect(gh.violations).toHaveLength(1);
    gh.faults.clear();
  });

  it('reports an operation GitHub has and the fake lacks as a violation too', async () => {
    expect(await status(octokit.rest.repos.listTags({ owner: 'acme', repo: 'api' }))).toBe(500);
    expect(gh.violations[0]).toMatchObject({ kind: 'unimplemented', operationId: 'repos/list-tags' });
  });

  it('implements only operations GitHub has (a misspelt operationId would never be reached)', () => {
    const ids = new Set(Object.values(loadGitHubSpec().paths).flatMap((item) => Object.values(item).map((op) => (op as { operationId?: string }).operationId)));
    expect(Object.keys(handlers).filter((id) => !ids.has(id))).toEqual([]);
  });

  it('passes a correct request and records it', async () => {
    const { data } = await octokit.rest.checks.create({ owner: 'acme', repo: 'api', name: 'kw', head_sha: head, status: 'in_progress' });
    expect(data.status).toBe('in_progress');
    expect(gh.violations).toEqual([]);
    expect(gh.requests.at(-1)).toMatchObject({ operationId: 'checks/create', route: '/repos/{owner}/{repo}/check-runs', body: { name: 'kw', head_sha: head, status: 'in_progress' } });
  });
});
