/**
 * The App under faults, over real HTTP: forged and oversized deliveries are refused before any
 * work; GitHub answering 502 and a 403 secondary rate limit is retried with the right waits; the
 * key backend down → the check says so and the job is retried until it is back; the process
 * SIGKILLed right after a revocation finishes the job after a restart without revoking twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAppHarness, WEBHOOK_SECRET, type AppHarness, ghToken } from '../helpers/app-harness.js';
import { createGitHubFake, signDelivery, type GitHubFake } from '../helpers/github-fake/index.js';
import { PROJECT } from '../helpers/respond-harness.js';
import { AuditLog } from '../../src/store/audit.js';


describe('the App under faults', () => {
  let h: AppHarness;
  beforeAll(async () => {
    h = await createAppHarness();
    await h.gh.createRepo('acme', 'api', { files: { 'README.md': '# api\n' } });
  });
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => h?.close());

  const push = async (files: Record<string, string>): Promise<{ after: string; status: number }> => {
    const before = (await h.gh.refSha('acme', 'api', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'api', { branch: 'main', files });
    const res = await h.deliver(await h.gh.pushEvent('acme', 'api', { before, after }));
    return { after, status: res.status };
  };

  it('refuses forged, unsigned and oversized deliveries before doing anything', async () => {
    const before = (await h.gh.refSha('acme', 'api', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'api', { branch: 'main', files: { 'a.txt': 'x\n' } });
    const d = await h.gh.pushEvent('acme', 'api', { before, after });
    const n = h.gh.requests.length;
    expect((await h.deliver(d, { secret: 'not-the-secret-at-all-1234' })).status).toBe(401);
    const signed = signDelivery(d, WEBHOOK_SECRET);
    const { ['x-hub-signature-256']: _sig, ...unsigned } = signed.headers;
    expect((await fetch(`${h.url}/api/github/webhooks`, { method: 'POST', headers: unsigned, body: signed.body })).status).toBe(400);
    // A body over GitHub's 25 MB cap, announced by its length, is refused before it is read.
    const big = Buffer.alloc(26 * 1024 * 1024, 0x20);
    const sig = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(big).digest('hex')}`;
    expect((await fetch(`${h.url}/api/github/webhooks`, { method: 'POST', headers: { ...signed.headers, 'x-hub-signature-256': sig }, body: big })).status).toBe(413);
    await h.idle();
    expect(h.gh.requests.length).toBe(n);
    expect(await h.app.queue.stats()).toMatchObject({ queued: 0, running: 0 });
  }, 60_000);

  it('retries a 502 from GitHub after a pause', async () => {
    h.gh.faults.add({ route: '/repos/{owner}/{repo}/compare/{base}...{head}', status: 502, times: 1 });
    const n = h.gh.requests.length;
    expect((await push({ 'b.txt': 'y\n' })).status).toBe(202);
    await h.idle();
    const compares = h.gh.requests.slice(n).filter((r) => r.route === '/repos/{owner}/{repo}/compare/{base}...{head}');
    expect(compares.map((r) => r.status)).toEqual([502, 200]);
    expect(compares[1]!.at - compares[0]!.at).toBeGreaterThanOrEqual(900);
  }, 60_000);

  it('waits out a secondary rate limit as GitHub asks (retry-after)', async () => {
    h.gh.faults.add({ route: '/repos/{owner}/{repo}/check-runs', method: 'POST', status: 403, times: 1, headers: { 'retry-after': '2' }, body: { message: 'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.' } });
    const n = h.gh.requests.length;
    const token = ghToken('faults-rate');
    const { after } = await push({ 'c.env': `TOKEN=${token}\n` });
    await h.idle();
    const checks = h.gh.requests.slice(n).filter((r) => r.route === '/repos/{owner}/{repo}/check-runs' && r.method === 'POST');
    expect(checks.map((r) => r.status)).toEqual([403, 201]);
    expect(checks[1]!.at - checks[0]!.at).toBeGreaterThanOrEqual(1900);
    expect(h.gh.checkRuns('acme', 'api').filter((c) => c.head_sha === after)).toHaveLength(1);
    expect(h.gh.revokedCredentials.filter((t) => t === token)).toHaveLength(1);
  }, 60_000);

  it('says the backend is down on the check, and retries the job until it is back', async () => {
    const kw = h.kw;
    expect((await kw('keys', 'create', '--spec', 'HMAC_256', '--alias', 'faults-signing', '--exportable', '--reason', 'e2e')).code).toBe(0);
    const token = (await kw('keys', 'export', 'faults-signing', '--format', 'token')).out.trim();
    const passphrase = h.env.KEYWARDEN_LOCAL_PASSPHRASE;
    h.env.KEYWARDEN_LOCAL_PASSPHRASE = 'the-wrong-passphrase-for-now';
    const { after } = await push({ 'src/key.ts': `export const key = '${token}';\n` });
    // The first attempt's check says the backend is down.
    for (let i = 0; i < 200 && !h.gh.checkRuns('acme', 'api').some((c) => c.head_sha === after); i++) await new Promise((r) => setTimeout(r, 50));
    const first = h.gh.checkRuns('acme', 'api').find((c) => c.head_sha === after)!;
    expect(first.output.summary).toMatch(/backend is unavailable/);
    h.env.KEYWARDEN_LOCAL_PASSPHRASE = passphrase;
    await h.idle();
    // The retry updated the check its first attempt wrote: one check run, not one per attempt.
    const runs = h.gh.checkRuns('acme', 'api').filter((c) => c.head_sha === after);
    expect(runs.map((c) => c.id)).toEqual([first.id]);
    const last = runs.at(-1)!;
    expect(last.output.summary).not.toMatch(/backend is unavailable/);
    expect(last.output.summary).toMatch(/version 1: revoked/);
  }, 60_000);

  it('revokes a leaked GitHub token while the key backend is locked, and records it in the fallback audit log', async () => {
    // The keystore exists (so a wrong passphrase cannot open it).
    expect((await h.kw('keys', 'create', '--spec', 'HMAC_256', '--alias', 'faults-locked', '--reason', 'e2e')).code).toBe(0);
    const passphrase = h.env.KEYWARDEN_LOCAL_PASSPHRASE;
    h.env.KEYWARDEN_LOCAL_PASSPHRASE = 'the-wrong-passphrase-for-now';
    const token = ghToken('faults-locked');
    try {
      await push({ 'ci.env': `GH_TOKEN=${token}\n` });
      for (let i = 0; i < 200 && !h.gh.revokedCredentials.includes(token); i++) await new Promise((r) => setTimeout(r, 50));
      expect(h.gh.revokedCredentials.filter((t) => t === token)).toHaveLength(1);
    } finally {
      h.env.KEYWARDEN_LOCAL_PASSPHRASE = passphrase;
    }
    await h.idle();
    expect(h.gh.revokedCredentials.filter((t) => t === token)).toHaveLength(1);
    const log = AuditLog.open(path.join(h.state, 'audit-fallback.db'), { readonly: true });
    try {
      const github = log.list().filter((r) => r.backend === 'github');
      expect(github.map((r) => r.outcome)).toEqual(['intent', 'succeeded']);
      expect(log.verify().ok).toBe(true);
      expect(JSON.stringify(log.list())).not.toContain(token);
    } finally {
      log.close();
    }
  }, 60_000);
});

// The job side as `npm start` runs it (a worker thread), in a child process, and on the intake's event loop.
describe.each(['thread', 'process', 'inline'] as const)('the App killed mid-job (jobs: %s)', (jobs) => {
  let gh: GitHubFake;
  let dir: string;
  let child: ChildProcess | undefined;
  const TSX = pathToFileURL(path.join(PROJECT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

  beforeAll(async () => {
    gh = await createGitHubFake({ violationStatus: 400 });
    await gh.createRepo('acme', 'web', { files: { 'README.md': '# web\n' } });
    dir = mkdtempSync(path.join(tmpdir(), 'kw-app-kill-'));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await gh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const startApp = (extra: NodeJS.ProcessEnv): Promise<{ url: string; exited: Promise<NodeJS.Signals | number | null> }> =>
    new Promise((resolve, reject) => {
      const state = path.join(dir, 'state');
      const settings = { appId: String(gh.appId), privateKey: gh.privateKey, webhookSecrets: [WEBHOOK_SECRET], apiUrl: gh.apiUrl, gitUrl: `${gh.apiUrl}/git`, webUrl: 'https://github.com', host: '127.0.0.1', port: 0, stateDir: state, backend: {}, concurrency: 1, logLevel: 'info' };
      const p = spawn(process.execPath, ['--import', TSX, path.join(PROJECT, 'test', 'helpers', 'app-process.ts')], {
        env: { PATH: process.env.PATH, HOME: dir, KEYWARDEN_STATE_DIR: state, KEYWARDEN_CACHE_DIR: path.join(PROJECT, '.cache', 'keywarden', 'policy'), KW_TEST_APP_SETTINGS: JSON.stringify(settings), KW_TEST_LEASE_MS: '1500', KEYWARDEN_AUDIT_KEY: AUDIT_KEY, KW_TEST_APP_JOBS: jobs, ...(process.env.KEYWARDEN_OPA ? { KEYWARDEN_OPA: process.env.KEYWARDEN_OPA } : {}), ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = p;
      const exited = new Promise<NodeJS.Signals | number | null>((r) => p.once('exit', (code, signal) => r(signal ?? code)));
      let out = '';
      p.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening (\S+)/.exec(out);
        if (m) resolve({ url: m[1]!, exited });
      });
      p.stderr!.resume();
      p.once('exit', (code) => reject(new Error(`app exited early (${code})`)));
    });
  const AUDIT_KEY = randomBytes(32).toString('base64');

  it('finishes the job after a restart, revoking once', async () => {
    const token = ghToken('faults-kill');
    const before = (await gh.refSha('acme', 'web', 'heads/main'))!;
    const after = await gh.commit('acme', 'web', { branch: 'main', files: { 'ci.env': `GH_TOKEN=${token}\n` } });
    const d = await gh.pushEvent('acme', 'web', { before, after });
    const first = await startApp({ KEYWARDEN_TEST_FAULTS: '1', KEYWARDEN_TEST_KILL_AFTER: 'revoke' });
    const signed = signDelivery(d, WEBHOOK_SECRET);
    expect((await fetch(`${first.url}/api/github/webhooks`, { method: 'POST', headers: signed.headers, body: signed.body })).status).toBe(202);
    expect(await first.exited).toBe('SIGKILL');
    expect(gh.revokedCredentials).toEqual([token]);
    expect(gh.repoState('acme', 'web').pulls.size).toBe(0);

    const second = await startApp({});
    // The lease (1.5 s) runs out; the restarted worker takes the job over and finishes it.
    for (let i = 0; i < 400 && !gh.checkRuns('acme', 'web').some((c) => c.head_sha === after); i++) await new Promise((r) => setTimeout(r, 50));
    expect(gh.checkRuns('acme', 'web').filter((c) => c.head_sha === after)).toHaveLength(1);
    expect(gh.revokedCredentials).toEqual([token]);
    expect(gh.repoState('acme', 'web').pulls.size).toBe(1);
    // A redelivery after all that is a duplicate.
    const again = await fetch(`${second.url}/api/github/webhooks`, { method: 'POST', headers: signed.headers, body: signed.body });
    expect(((await again.json()) as { outcome: string }).outcome).toBe('duplicate');
    // What the job side did is on the intake's /metrics, wherever the jobs ran.
    let metrics = '';
    for (let i = 0; i < 100 && !/keywarden_actions_total\{type="check_run",outcome="done"\} [1-9]/.test(metrics); i++) {
      metrics = await (await fetch(`${second.url}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(metrics).toMatch(/keywarden_actions_total\{type="check_run",outcome="done"\} [1-9]/);
    expect(metrics).toMatch(/keywarden_jobs_total\{kind="push_scan",outcome="done"\} 1/);
    expect(metrics).not.toContain(token);
    gh.assertNoViolations();
  }, 90_000);
});
