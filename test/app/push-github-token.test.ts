/**
 * The App end to end, a push that leaks a GitHub token: the delivery is acknowledged, the job
 * runs, the token goes to GitHub's revocation API once (with the token itself as the body) and
 * before the repository is fetched (straight from the compare's findings), the
 * remediation PR's branch holds no secret, the `keywarden` check fails on the pushed commit, and
 * the token is in no log line, no other request, no response and no stored file.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { createAppHarness, expectNoCanaryInApp, type AppHarness } from '../helpers/app-harness.js';

describe('the App on a push that leaks a GitHub token', () => {
  let h: AppHarness;
  const token = secretGenerators['github-pat-classic']!(createRng('app-push-gh')).secret;

  beforeAll(async () => {
    h = await createAppHarness();
    await h.gh.createRepo('acme', 'api', { files: { 'README.md': '# api\n', 'src/app.ts': 'export const answer = 42;\n' } });
  });
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => h?.close());

  it('revokes the token once, opens the fix, fails the check, and leaks nothing', async () => {
    const before = (await h.gh.refSha('acme', 'api', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'api', { branch: 'main', files: { 'src/config.ts': `export const config = {\n  token: '${token}',\n};\n` }, message: 'add config' });
    const res = await h.deliver(await h.gh.pushEvent('acme', 'api', { before, after }));
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ ok: true, outcome: 'queued' });
    await h.idle();

    expect(h.gh.revokedCredentials).toEqual([token]);
    const revokes = h.gh.requests.filter((r) => r.route === '/credentials/revoke');
    expect(revokes).toHaveLength(1);
    expect(revokes[0]!.body).toEqual({ credentials: [token] });
    // Revoked from the compare's findings, before the repository is fetched (the fast path); the
    // full run after the fetch replays that step instead of revoking again.
    const firstFetch = h.gh.gitRequests.find((r) => r.repo === 'api' && r.service === 'git-upload-pack');
    expect(firstFetch).toBeDefined();
    expect(revokes[0]!.at).toBeLessThanOrEqual(firstFetch!.at);

    const pulls = [...h.gh.repoState('acme', 'api').pulls.values()];
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    expect(pr.head.ref).toMatch(/^keywarden\/remediate-/);
    const patched = await h.gh.readFile('acme', 'api', pr.head.ref, 'src/config.ts');
    expect(patched).toBeDefined();
    expect(patched).not.toContain(token);
    expect(patched).toContain('process.env');

    const checks = h.gh.checkRuns('acme', 'api').filter((c) => c.head_sha === after);
    expect(checks).toHaveLength(1);
    expect(checks[0]!.conclusion).toBe('failure');
    expect(checks[0]!.annotations.some((a) => a.path === 'src/config.ts' && a.start_line === 2)).toBe(true);

    expectNoCanaryInApp(h, token);
  });

  it("scans every commit of a default branch's first push: a token added and then removed is revoked", async () => {
    const early = secretGenerators['github-pat-classic']!(createRng('app-push-gh-first')).secret;
    await h.gh.createRepo('acme', 'fresh');
    const c1 = await h.gh.commit('acme', 'fresh', { branch: 'main', parent: null, files: { 'ci.env': `GH_TOKEN=${early}\n` }, message: 'ci' });
    const c2 = await h.gh.commit('acme', 'fresh', { branch: 'main', parent: c1, files: { 'ci.env': 'GH_TOKEN=${GH_TOKEN}\n', 'README.md': '# fresh\n' }, message: 'use the env' });
    const res = await h.deliver(await h.gh.pushEvent('acme', 'fresh', { before: '0'.repeat(40), after: c2 }));
    expect(res.status).toBe(202);
    await h.idle();
    expect(h.gh.revokedCredentials.filter((t) => t === early)).toHaveLength(1);
    expect(h.gh.checkRuns('acme', 'fresh').find((c) => c.head_sha === c2)?.conclusion).toBe('failure');
    expectNoCanaryInApp(h, early);
  });

  it('does nothing twice when the same delivery comes ten times', async () => {
    const before = (await h.gh.refSha('acme', 'api', 'heads/main'))!;
    const other = secretGenerators['github-pat-classic']!(createRng('app-push-gh-2')).secret;
    const after = await h.gh.commit('acme', 'api', { branch: 'main', files: { 'deploy.env': `GITHUB_TOKEN=${other}\n` } });
    const d = await h.gh.pushEvent('acme', 'api', { before, after });
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await h.deliver(d, { id: d.id });
      expect(r.status).toBe(202);
      outcomes.push(((await r.json()) as { outcome: string }).outcome);
    }
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(1);
    await h.idle();
    expect(h.gh.revokedCredentials.filter((t) => t === other)).toHaveLength(1);
    expect(h.gh.checkRuns('acme', 'api').filter((c) => c.head_sha === after)).toHaveLength(1);
    expectNoCanaryInApp(h, other);
  });

  it('costs one REST call for a clean push', async () => {
    const before = (await h.gh.refSha('acme', 'api', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'api', { branch: 'main', files: { 'src/more.ts': 'export const more = true;\n' } });
    const n = h.gh.requests.length;
    const res = await h.deliver(await h.gh.pushEvent('acme', 'api', { before, after }));
    expect(res.status).toBe(202);
    await h.idle();
    const calls = h.gh.requests.slice(n).filter((r) => r.route !== '/app/installations/{installation_id}/access_tokens');
    expect(calls.map((r) => r.route)).toEqual(['/repos/{owner}/{repo}/compare/{base}...{head}']);
  });
});
