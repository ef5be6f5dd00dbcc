/**
 * The App on PostgreSQL (KEYWARDEN_DATABASE_URL), against the GitHub fake: the queue, the step
 * records and the idempotency records in one database shared by several compositions — intake
 * replicas (`serve`) and workers (`worker`) — as separate processes on separate machines would
 * share it. A leak is revoked once whichever worker runs it; the same delivery given to two intake
 * replicas at once is one job; no secret reaches a table; `keywarden db migrate` and `db status`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { composeApp, type ComposedApp } from '../../src/compose-app.js';
import { main } from '../../src/cli/main.js';
import { createAppLogger } from '../../src/server/logger.js';
import { createPgPool, PG_SCHEMA, PG_SCHEMA_VERSION, type PgPool } from '../../src/store/pg.js';
import { PgAuditLog } from '../../src/store/pg-audit.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { createAppHarness, expectNoCanaryInApp, WEBHOOK_SECRET, type AppHarness } from '../helpers/app-harness.js';
import { signDelivery } from '../helpers/github-fake/index.js';
import { createTestDatabase, postgresSkipReason } from '../setup/postgres.js';

const pgSkip = postgresSkipReason();

describe.skipIf(pgSkip)('the App on PostgreSQL', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: PgPool;
  let h: AppHarness;
  const more: ComposedApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPgPool({ url: db.url, max: 2 });
    h = await createAppHarness({ settings: { databaseUrl: db.url, databasePool: 4 } });
  });
  afterEach(() => h.gh.assertNoViolations());
  afterAll(async () => {
    for (const a of more.splice(0)) await a.close(2000);
    await h?.close();
    await pool?.end();
    await db?.drop();
  });

  const quiet = () => createAppLogger({ level: 'debug', destination: { write: (s: string) => void h.lines.push(s) } });
  const rows = async (sql: string): Promise<Record<string, unknown>[]> => (await pool.query(sql)).rows as Record<string, unknown>[];
  /** Everything Keywarden stored in PostgreSQL, as text. */
  const everything = async (): Promise<string> => {
    const tables = ['jobs', 'deliveries', 'steps', 'idempotency', 'audit_log', 'audit_checkpoint'];
    return JSON.stringify(await Promise.all(tables.map((t) => rows(`SELECT * FROM ${PG_SCHEMA}.${t}`))));
  };
  const settle = async (): Promise<void> => {
    for (;;) {
      const st = await h.app.queue.stats();
      if (st.queued === 0 && st.running === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('migrates at start-up, queues in PostgreSQL, revokes a leaked token once, and stores no secret', async () => {
    expect(h.app.queue.name).toBe('postgres');
    expect(await rows(`SELECT max(version) AS v FROM ${PG_SCHEMA}.schema_migrations`)).toEqual([{ v: PG_SCHEMA_VERSION }]);
    const token = secretGenerators['github-pat-classic']!(createRng('app-pg-token')).secret;
    await h.gh.createRepo('acme', 'api', { files: { 'README.md': '# api\n' } });
    const before = (await h.gh.refSha('acme', 'api', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'api', { branch: 'main', files: { 'src/config.ts': `export const token = '${token}';\n` }, message: 'config' });
    const res = await h.deliver(await h.gh.pushEvent('acme', 'api', { before, after }));
    expect(res.status).toBe(202);
    await h.idle();

    expect(h.gh.revokedCredentials).toEqual([token]);
    expect([...h.gh.repoState('acme', 'api').pulls.values()]).toHaveLength(1);
    const jobs = await rows(`SELECT kind, state FROM ${PG_SCHEMA}.jobs ORDER BY seq`);
    expect(jobs.filter((j) => j.kind === 'push')).toEqual([{ kind: 'push', state: 'done' }]);
    expect((await rows(`SELECT status FROM ${PG_SCHEMA}.steps`)).every((s) => s.status === 'done')).toBe(true);
    // The revocation is in the one shared audit chain, intent and outcome, and the chain verifies.
    const audit = await rows(`SELECT operation, outcome FROM ${PG_SCHEMA}.audit_log ORDER BY seq`);
    expect(audit.filter((r) => r.operation === 'revoke-credential' || r.operation === 'revoke-and-replace-credential').map((r) => r.outcome)).toEqual(['intent', 'succeeded']);
    expect(await new PgAuditLog(pool).verify()).toMatchObject({ ok: true });
    expect(await everything()).not.toContain(token);
    expectNoCanaryInApp(h, token);
  });

  it('takes the same delivery, given to two intake replicas at once, as one job', async () => {
    const serveA = await composeApp(h.app.settings, { env: h.env, role: 'serve', logger: quiet() });
    const serveB = await composeApp(h.app.settings, { env: h.env, role: 'serve', logger: quiet() });
    more.push(serveA, serveB);
    const [a, b] = [await serveA.start(), await serveB.start()];
    await h.gh.createRepo('acme', 'twice', { files: { 'README.md': '# twice\n' } });
    const before = (await h.gh.refSha('acme', 'twice', 'heads/main'))!;
    const after = await h.gh.commit('acme', 'twice', { branch: 'main', files: { 'notes.md': 'nothing secret\n' }, message: 'notes' });
    const event = await h.gh.pushEvent('acme', 'twice', { before, after });
    const signed = signDelivery(event, WEBHOOK_SECRET, { id: 'delivery-at-both-replicas' });
    const post = (url: string) => fetch(`${url}/api/github/webhooks`, { method: 'POST', headers: signed.headers, body: signed.body });
    const answers = await Promise.all([post(a.url), post(b.url), post(a.url), post(b.url)]);
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    const outcomes = await Promise.all(answers.map(async (r) => ((await r.json()) as { outcome: string }).outcome));
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(3);
    await h.idle();
    expect(await rows(`SELECT count(*)::int AS n FROM ${PG_SCHEMA}.jobs WHERE delivery_id = 'delivery-at-both-replicas'`)).toEqual([{ n: 1 }]);
  });

  it('runs leaking pushes with three workers on one database, and revokes each token exactly once', async () => {
    const workers = await Promise.all([1, 2].map(() => composeApp({ ...h.app.settings, webhookSecrets: [] }, { env: h.env, role: 'worker', logger: quiet(), worker: { pollMs: 20, backoff: () => 100 } })));
    more.push(...workers);
    for (const w of workers) await w.start();
    const tokens = Array.from({ length: 6 }, (_, i) => secretGenerators['github-pat-classic']!(createRng(`app-pg-spread-${i}`)).secret);
    for (let i = 0; i < tokens.length; i++) {
      await h.gh.createRepo('acme', `svc-${i}`, { files: { 'README.md': `# svc ${i}\n` } });
      const before = (await h.gh.refSha('acme', `svc-${i}`, 'heads/main'))!;
      const after = await h.gh.commit('acme', `svc-${i}`, { branch: 'main', files: { '.env': `GITHUB_TOKEN=${tokens[i]}\n` }, message: 'env' });
      expect((await h.deliver(await h.gh.pushEvent('acme', `svc-${i}`, { before, after }))).status).toBe(202);
    }
    await settle();
    for (const w of workers) await w.worker.idle();
    await h.idle();
    for (const t of tokens) expect(h.gh.revokedCredentials.filter((c) => c === t)).toHaveLength(1);
    expect(h.gh.requests.filter((r) => r.route === '/credentials/revoke')).toHaveLength(1 + tokens.length);
    expect(await everything()).not.toMatch(new RegExp(tokens.join('|')));
  });

  it('keywarden db migrate and db status work on the database', async () => {
    const run = async (...argv: string[]) => {
      let out = '';
      const code = await main(argv, { env: { ...h.env, KEYWARDEN_DATABASE_URL: db.url }, stdout: (s) => void (out += s), stderr: (s) => void (out += s), isTTY: false });
      return { code, out };
    };
    const migrate = await run('db', 'migrate', '--format', 'json');
    expect(migrate.code).toBe(0);
    expect(JSON.parse(migrate.out)).toMatchObject({ engine: 'postgres', from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION, applied: [] });
    const status = await run('db', 'status', '--format', 'json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ schema: PG_SCHEMA_VERSION, queue: { queued: 0, running: 0 } });
    const dead = await run('db', 'dead-letters', '--format', 'json');
    expect(dead).toMatchObject({ code: 0 });
    expect(JSON.parse(dead.out)).toEqual({ dead: [] });
    const text = await run('db', 'status');
    expect(text.out).toMatch(/schema {4}\d+\nqueue {5}0 queued/);
    // A fresh database: migrate applies everything, status then says it is current.
    const fresh = await createTestDatabase();
    try {
      const r = await main(['db', 'migrate', '--url', fresh.url], { env: h.env, stdout: () => {}, stderr: () => {}, isTTY: false });
      expect(r).toBe(0);
      const p = createPgPool({ url: fresh.url, max: 1 });
      expect((await p.query(`SELECT count(*)::int AS n FROM ${PG_SCHEMA}.schema_migrations`)).rows).toEqual([{ n: PG_SCHEMA_VERSION }]);
      await p.end();
    } finally {
      await fresh.drop();
    }
    // The shared audit chain: verified, exported and checkpointed through the CLI.
    const verify = await run('audit', 'verify', '--database', '--format', 'json');
    expect(verify.code, verify.out).toBe(0);
    expect(JSON.parse(verify.out)).toMatchObject({ ok: true });
    const exported = await run('audit', 'export', '--database');
    expect(exported.code).toBe(0);
    expect(exported.out.split('\n').filter(Boolean).length).toBe((await rows(`SELECT count(*)::int AS n FROM ${PG_SCHEMA}.audit_log`))[0]!.n);
    // A URL that is not postgres:// is a usage error; its text is not echoed with a password.
    const bad = await run('db', 'migrate', '--url', 'mysql://root:hunter2@db/x');
    expect(bad.code).toBe(2);
    expect(bad.out).not.toContain('hunter2');
  });
});
