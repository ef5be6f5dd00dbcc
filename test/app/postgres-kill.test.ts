/**
 * Exactly once across machines (issue 13, faults): the App as separate OS processes on one
 * PostgreSQL database — a `serve` replica and a `worker` — with the worker SIGKILLed right after
 * it revoked a leaked token. A second worker, on another state folder (another machine: nothing
 * shared but the database), takes the job over once the lease runs out and finishes it: the token
 * is revoked once, the remediation PR opened once, and the one audit chain has one intent and one
 * outcome for the revocation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, PG_SCHEMA, type PgPool } from '../../src/store/pg.js';
import { PgAuditLog } from '../../src/store/pg-audit.js';
import { ghToken, WEBHOOK_SECRET } from '../helpers/app-harness.js';
import { createGitHubFake, signDelivery, type GitHubFake } from '../helpers/github-fake/index.js';
import { PROJECT } from '../helpers/respond-harness.js';
import { createTestDatabase, postgresSkipReason } from '../setup/postgres.js';

const pgSkip = postgresSkipReason();
const TSX = pathToFileURL(path.join(PROJECT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

describe.skipIf(pgSkip)('the App on PostgreSQL, a worker killed mid-job', () => {
  let gh: GitHubFake;
  let db: { url: string; drop(): Promise<void> };
  let pool: PgPool;
  let dir: string;
  const children: ChildProcess[] = [];
  const AUDIT_KEY = randomBytes(32).toString('base64');

  beforeAll(async () => {
    gh = await createGitHubFake({ violationStatus: 400 });
    await gh.createRepo('acme', 'web', { files: { 'README.md': '# web\n' } });
    db = await createTestDatabase();
    pool = createPgPool({ url: db.url, max: 2 });
    dir = mkdtempSync(path.join(tmpdir(), 'kw-pg-kill-'));
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await gh?.close();
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (role: 'serve' | 'worker', machine: string, extra: NodeJS.ProcessEnv = {}): Promise<{ url: string; exited: Promise<NodeJS.Signals | number | null> }> =>
    new Promise((resolve, reject) => {
      const state = path.join(dir, machine);
      const settings = {
        appId: String(gh.appId),
        privateKey: gh.privateKey,
        webhookSecrets: role === 'serve' ? [WEBHOOK_SECRET] : [],
        apiUrl: gh.apiUrl,
        gitUrl: `${gh.apiUrl}/git`,
        webUrl: 'https://github.com',
        host: '127.0.0.1',
        port: 0,
        stateDir: state,
        backend: {},
        concurrency: 2,
        logLevel: 'info',
        databaseUrl: db.url,
        databasePool: 4,
      };
      const p = spawn(process.execPath, ['--import', TSX, path.join(PROJECT, 'test', 'helpers', 'app-role-process.ts')], {
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          KEYWARDEN_STATE_DIR: state,
          KEYWARDEN_CACHE_DIR: path.join(PROJECT, '.cache', 'keywarden', 'policy'),
          KW_TEST_APP_SETTINGS: JSON.stringify(settings),
          KW_TEST_APP_ROLE: role,
          KW_TEST_LEASE_MS: '1500',
          KEYWARDEN_AUDIT_KEY: AUDIT_KEY,
          ...(process.env.KEYWARDEN_OPA ? { KEYWARDEN_OPA: process.env.KEYWARDEN_OPA } : {}),
          ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(p);
      const exited = new Promise<NodeJS.Signals | number | null>((r) => p.once('exit', (code, signal) => r(signal ?? code)));
      let out = '';
      let err = '';
      p.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(?:listening|working) (\S+)/.exec(out);
        if (m) resolve({ url: m[1]!, exited });
      });
      p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      p.once('exit', (code) => reject(new Error(`${role} exited early (${code}): ${err}`)));
    });

  it('finishes the job on another machine after the first worker dies, revoking once and recording once', async () => {
    const token = ghToken('pg-kill');
    const before = (await gh.refSha('acme', 'web', 'heads/main'))!;
    const after = await gh.commit('acme', 'web', { branch: 'main', files: { 'ci.env': `GH_TOKEN=${token}\n` } });
    const d = await gh.pushEvent('acme', 'web', { before, after });

    const serve = await start('serve', 'intake');
    const doomed = await start('worker', 'machine-a', { KEYWARDEN_TEST_FAULTS: '1', KEYWARDEN_TEST_KILL_AFTER: 'revoke' });
    const signed = signDelivery(d, WEBHOOK_SECRET);
    expect((await fetch(`${serve.url}/api/github/webhooks`, { method: 'POST', headers: signed.headers, body: signed.body })).status).toBe(202);
    expect(await doomed.exited).toBe('SIGKILL');
    expect(gh.revokedCredentials).toEqual([token]);
    expect(gh.repoState('acme', 'web').pulls.size).toBe(0);

    await start('worker', 'machine-b');
    for (let i = 0; i < 600 && !gh.checkRuns('acme', 'web').some((c) => c.head_sha === after); i++) await new Promise((r) => setTimeout(r, 50));
    expect(gh.checkRuns('acme', 'web').filter((c) => c.head_sha === after)).toHaveLength(1);
    expect(gh.revokedCredentials).toEqual([token]);
    expect(gh.repoState('acme', 'web').pulls.size).toBe(1);

    const push = (await pool.query<{ attempts: number; state: string; last_error_code: string | null }>(`SELECT attempts, state, last_error_code FROM ${PG_SCHEMA}.jobs WHERE kind = 'push'`)).rows;
    expect(push).toEqual([{ attempts: 2, state: 'done', last_error_code: 'KW_QUEUE_LEASE_EXPIRED' }]);
    const revocations = (await pool.query<{ outcome: string }>(`SELECT outcome FROM ${PG_SCHEMA}.audit_log WHERE operation LIKE 'revoke%credential' ORDER BY seq`)).rows;
    expect(revocations.map((r) => r.outcome)).toEqual(['intent', 'succeeded']);
    const { createCheckpointSigner } = await import('../../src/store/checkpoint.js');
    expect(await new PgAuditLog(pool, { signer: createCheckpointSigner(Buffer.from(AUDIT_KEY, 'base64')) }).verify()).toMatchObject({ ok: true });
    // A redelivery, to the intake, after all that: a duplicate.
    const again = await fetch(`${serve.url}/api/github/webhooks`, { method: 'POST', headers: signed.headers, body: signed.body });
    expect(((await again.json()) as { outcome: string }).outcome).toBe('duplicate');
    gh.assertNoViolations();
  }, 120_000);
});
