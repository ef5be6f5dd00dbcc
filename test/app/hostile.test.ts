/**
 * Hostile pushes: what a stranger pushes cannot hide a secret from the App or steer it.
 * - a `.gitattributes` that makes GitHub leave a file's patch out (`-diff`, binary) → the
 *   pre-check cannot vouch, the range is scanned from git, the secret is found;
 * - a compare GitHub truncates (here at 3 files) → the same;
 * - a force-push → what is new is scanned; a new branch → compared with the default branch;
 * - a canary in a commit message (which Probot logs with the event at debug) reaches no log line;
 * - hostile names in the payload are refused before git runs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobFromEvent, parseCommand } from '../../src/app/jobs.js';
import { cloneUrl } from '../../src/scm/github-git.js';
import { createAppHarness, expectNoCanaryInApp, type AppHarness, ghToken } from '../helpers/app-harness.js';


describe('the App on hostile pushes', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createAppHarness({ fake: { compareLimits: { files: 3 } }, compareMaxFiles: 3 });
    await h.gh.createRepo('acme', 'x', { files: { 'README.md': '# x\n' } });
  });
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => h?.close());

  const pushTo = async (branch: string, files: Record<string, string>, o: { message?: string; parent?: string; before?: string; forced?: boolean } = {}): Promise<string> => {
    const before = o.before ?? (await h.gh.refSha('acme', 'x', `heads/${branch}`)) ?? '0'.repeat(40);
    const after = await h.gh.commit('acme', 'x', { branch, files, ...(o.message ? { message: o.message } : {}), ...(o.parent ? { parent: o.parent } : {}) });
    expect((await h.deliver(await h.gh.pushEvent('acme', 'x', { ref: `refs/heads/${branch}`, before, after, ...(o.forced ? { forced: true } : {}) }))).status).toBe(202);
    await h.idle();
    return after;
  };
  const revoked = (t: string): number => h.gh.revokedCredentials.filter((x) => x === t).length;

  it('finds a secret in a file a pushed .gitattributes marks -diff', async () => {
    const token = ghToken('hostile-attr');
    await pushTo('main', { '.gitattributes': '*.cfg -diff\n*.env binary\n', 'app.cfg': `token = ${token}\n` });
    expect(revoked(token)).toBe(1);
  }, 60_000);

  it('finds a secret past GitHub\'s compare truncation', async () => {
    const token = ghToken('hostile-trunc');
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`gen/f${i}.txt`] = `file ${i}\n`;
    files['zz/late.env'] = `GH=${token}\n`;
    await pushTo('main', files);
    expect(revoked(token)).toBe(1);
  }, 60_000);

  it('scans a new branch against the default branch, and a force-push for what is new', async () => {
    const a = ghToken('hostile-branch');
    const first = await pushTo('topic', { 'src/a.env': `A=${a}\n` }, { parent: (await h.gh.refSha('acme', 'x', 'heads/main'))! });
    expect(revoked(a)).toBe(1);
    // Rewrite the branch: a new commit on main's tip replaces it, and brings another token.
    const b = ghToken('hostile-force');
    await pushTo('topic', { 'src/b.env': `B=${b}\n` }, { parent: (await h.gh.refSha('acme', 'x', 'heads/main'))!, before: first, forced: true });
    expect(revoked(b)).toBe(1);
    expect(revoked(a)).toBe(1);
  }, 60_000);

  it('keeps a canary in a commit message out of every log line', async () => {
    const token = ghToken('hostile-message');
    await pushTo('main', { 'notes.txt': 'nothing here\n' }, { message: `oops, my token is ${token}` });
    expect(h.lines.length).toBeGreaterThan(0);
    expectNoCanaryInApp(h, token);
  }, 60_000);
});

describe('hostile payload fields', () => {
  it('refuses repository names that are not plain owner/name before git runs', () => {
    for (const [o, r] of [['acme', '../../etc'], ['..', 'x'], ['acme', 'x.git/../y'], ['-c', 'x'], ['acme', 'a b']]) {
      expect(() => cloneUrl('https://github.com', o!, r!), `${o}/${r}`).toThrow(/plain owner\/name/);
    }
    expect(() => cloneUrl('http://example.com', 'acme', 'x')).toThrow(/refused/);
    expect(cloneUrl('https://github.com', 'acme', 'api')).toBe('https://github.com/acme/api.git');
  });

  it('queues ids and shas only, never payload text', () => {
    const canary = 'ghp_thisIsNotARealTokenButLooksLongEnough0000';
    const [job] = jobFromEvent('push', {
      ref: 'refs/heads/main', before: 'a'.repeat(40), after: 'b'.repeat(40),
      repository: { id: 7, name: 'api', private: true, default_branch: 'main', owner: { login: 'acme' } },
      installation: { id: 3 }, commits: [{ message: canary, added: ['x'] }], head_commit: { message: canary },
    }, 0);
    expect(JSON.stringify(job)).not.toContain(canary);
    expect(jobFromEvent('push', { after: 'not-a-sha', ref: 'refs/heads/main', repository: { id: 1, name: 'a', owner: { login: 'b' } }, installation: { id: 1 } }, 0)).toEqual([]);
  });

  it('parses comment commands strictly', () => {
    expect(parseCommand('/keywarden explain')).toEqual({ command: 'explain' });
    expect(parseCommand('hi\n  /keywarden rotate alias/payments  \nthanks')).toEqual({ command: 'rotate', argument: 'alias/payments' });
    expect(parseCommand('/keywarden rotate $(rm -rf /)')).toBeUndefined();
    expect(parseCommand('say /keywarden explain inline')).toBeUndefined();
    expect(parseCommand('/keywarden'.padEnd(100_000, ' x'))).toBeUndefined();
  });
});
