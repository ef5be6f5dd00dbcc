/**
 * PostgreSQL restarted during a burst (issue 13, faults): GitHub does not redeliver on its own, so
 * while the database is down the intake keeps answering 202 and spools each verified delivery to
 * disk (fsynced before the answer); once the database is back the spool is replayed, the workers
 * reconnect, and every delivery becomes exactly one job — counted, not assumed. A cluster of this
 * file's own (stopping the run's shared one would break the other files).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, PG_SCHEMA, type PgPool } from '../../src/store/pg.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { createAppHarness, expectNoCanaryInApp, type AppHarness } from '../helpers/app-harness.js';
import { createTestDatabase, pgCtl, postgresSkipReason, startPostgresCluster, type PostgresCluster } from '../setup/postgres.js';

const pgSkip = postgresSkipReason();

describe.skipIf(pgSkip)('the App when PostgreSQL restarts during a burst', () => {
  let cluster: PostgresCluster;
  let db: { url: string; drop(): Promise<void> };
  let h: AppHarness;
  let pool: PgPool;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    db = await createTestDatabase(cluster.url);
    h = await createAppHarness({ settings: { databaseUrl: db.url, databasePool: 4 } });
    pool = createPgPool({ url: db.url, max: 1 });
  });
  afterAll(async () => {
    await h?.close();
    await pool?.end();
    await cluster?.stop();
  });

  const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> => {
    const until = Date.now() + ms;
    for (;;) {
      try {
        if (await ok()) return;
      } catch {
        // the database is still coming back
      }
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('answers every delivery while the database is down, spools them, and turns each into one job once it is back', async () => {
    const tokens = Array.from({ length: 4 }, (_, i) => secretGenerators['github-pat-classic']!(createRng(`pg-restart-${i}`)).secret);
    const repos = Array.from({ length: 8 }, (_, i) => `burst-${i}`);
    const events = [];
    for (const [i, name] of repos.entries()) {
      await h.gh.createRepo('acme', name, { files: { 'README.md': `# ${name}\n` } });
      const before = (await h.gh.refSha('acme', name, 'heads/main'))!;
      const files = i < tokens.length ? { '.env': `GITHUB_TOKEN=${tokens[i]}\n` } : { 'notes.md': `clean ${i}\n` };
      const after = await h.gh.commit('acme', name, { branch: 'main', files, message: 'burst' });
      events.push({ name, event: await h.gh.pushEvent('acme', name, { before, after }) });
    }
    // The first two arrive while the database is up.
    for (const e of events.slice(0, 2)) expect((await h.deliver(e.event, { id: `up-${e.name}` })).status).toBe(202);
    await h.idle();

    pgCtl(cluster, 'stop');
    const answers = [];
    for (const e of events.slice(2)) answers.push(await h.deliver(e.event, { id: `down-${e.name}` }));
    // A redelivery of one of them while still down: spooled again, a duplicate on replay.
    answers.push(await h.deliver(events[2]!.event, { id: `down-${events[2]!.name}` }));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 202));
    expect(await Promise.all(answers.map(async (r) => ((await r.json()) as { outcome: string }).outcome))).toEqual(answers.map(() => 'queued'));
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);

    // On disk, private, and without a secret in it.
    const spoolDir = path.join(h.state, 'spool');
    const spooled = readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl'));
    expect(spooled).toHaveLength(1);
    const spoolFile = path.join(spoolDir, spooled[0]!);
    expect(statSync(spoolFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(spoolFile, 'utf8').trim().split('\n')).toHaveLength(7);
    for (const t of tokens) expect(readFileSync(spoolFile, 'utf8')).not.toContain(t);

    pgCtl(cluster, 'start');
    const pushJobs = async (): Promise<{ delivery_id: string; state: string }[]> =>
      (await pool.query<{ delivery_id: string; state: string }>(`SELECT delivery_id, state FROM ${PG_SCHEMA}.jobs WHERE kind = 'push' ORDER BY delivery_id`)).rows;
    await waitFor('the spool to be replayed', async () => (await pushJobs()).length === 8);
    await waitFor('the spool file to go', async () => readdirSync(spoolDir).filter((f) => f.endsWith('.jsonl') || f.endsWith('.replaying')).length === 0);
    await waitFor('every job to finish', async () => (await pushJobs()).every((j) => j.state === 'done'));
    await h.idle();

    // Counted: 8 deliveries, 8 push jobs, each once; the redelivery was a duplicate.
    const jobs = await pushJobs();
    expect(jobs.map((j) => j.delivery_id)).toEqual([...events.slice(2).map((e) => `down-${e.name}`), ...events.slice(0, 2).map((e) => `up-${e.name}`)].sort());
    expect(jobs.every((j) => j.state === 'done')).toBe(true);
    for (const t of tokens) expect(h.gh.revokedCredentials.filter((c) => c === t)).toHaveLength(1);
    expect(h.lines.some((l) => l.includes('delivery spooled to disk'))).toBe(true);
    // Counted on /metrics too: 7 spooled, 7 replayed (the redelivery a duplicate), none dropped or waiting.
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    for (const [state, n] of [['spooled', 7], ['replayed', 7], ['dropped', 0], ['pending', 0]] as const) expect(metrics).toContain(`keywarden_spool_deliveries{state="${state}"} ${n}`);
    for (const t of tokens) expectNoCanaryInApp(h, t);
  });
});
