/**
 * The job queue across OS processes, on SQLite (one file) and on PostgreSQL (one database): a worker SIGKILLed in the middle of a handler loses
 * its job only to the lease, and a new worker finishes it once; two processes draining one file
 * never run a job twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { createPgPool, migratePg, PG_SCHEMA } from '../../src/store/pg.js';
import { PgJobQueue } from '../../src/store/pg-queue.js';
import { createWorker, type Job, type JobQueue } from '../../src/store/queue.js';
import { SqliteJobQueue } from '../../src/store/sqlite-queue.js';
import { createTestDatabase, postgresSkipReason } from '../setup/postgres.js';
import { effectHandler, recordedEffects } from './fixtures/queue-effects.js';

const PROJECT = path.resolve(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(path.join(PROJECT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'queue-worker.ts');

const pgSkip = postgresSkipReason();
let pg: { url: string; drop(): Promise<void> } | undefined;
beforeAll(async () => {
  if (pgSkip) return;
  pg = await createTestDatabase();
  const pool = createPgPool({ url: pg.url, max: 1 });
  await migratePg(pool);
  await pool.end();
});
afterAll(async () => {
  await pg?.drop();
});

let dir: string;
const children: ChildProcess[] = [];
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-queue-crash-'));
  if (pg) {
    const pool = createPgPool({ url: pg.url, max: 1 });
    await pool.query(`TRUNCATE ${PG_SCHEMA}.jobs, ${PG_SCHEMA}.deliveries`);
    await pool.end();
  }
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startFixture(args: string[]): { child: ChildProcess; line: (prefix: string) => Promise<string>; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> } {
  const child = spawn(process.execPath, ['--import', TSX, FIXTURE, ...args], { cwd: PROJECT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  const waiting: { prefix: string; resolve: (l: string) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiting]) {
      const l = out.split('\n').find((x) => x.startsWith(w.prefix));
      if (l !== undefined) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(l);
      }
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    check();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, err })));
  const line = (prefix: string): Promise<string> =>
    Promise.race([
      new Promise<string>((resolve) => {
        waiting.push({ prefix, resolve });
        check();
      }),
      exit.then(({ code, signal }) => Promise.reject(new Error(`fixture exited (${code ?? signal}) before "${prefix}": ${err}`))),
    ]);
  return { child, line, exit };
}

describe.each(['sqlite', 'postgres'] as const)('the %s job queue across processes', (engine) => {
  if (engine === 'postgres' && pgSkip) {
    it.skip(`PostgreSQL: ${pgSkip}`, () => {});
    return;
  }
  /** The store as the fixture takes it (a file or a URL), and a queue on it in this process. */
  const store = (): { file: string; queue: JobQueue } => {
    if (engine === 'sqlite') {
      const file = path.join(dir, 'jobs.db');
      return { file, queue: new SqliteJobQueue({ file }) };
    }
    return { file: pg!.url, queue: new PgJobQueue({ pool: createPgPool({ url: pg!.url, max: 4 }), ownsPool: true }) };
  };

  it('finishes, once, a job whose worker was SIGKILLed mid-handler, after its lease expires', async () => {
    const { file, queue } = store();
    const effects = path.join(dir, 'effects.log');
    const { id } = await queue.enqueue({ kind: 'effect', payload: { repo: 'octo/app' }, deliveryId: 'd-1' });

    const leaseMs = 1500;
    const crash = startFixture(['crash', file, effects, String(leaseMs)]);
    expect(await crash.line('midway ')).toBe(`midway ${id}`);
    const first = await queue.get(id);
    expect(first).toMatchObject({ state: 'running', attempts: 1 });
    // Let the child renew its lease at least once (every leaseMs/3) before it dies.
    await new Promise((r) => setTimeout(r, leaseMs / 3 + 300));
    const renewed = await queue.get(id);
    expect(renewed!.leaseExpiresAt!.getTime()).toBeGreaterThan(first!.leaseExpiresAt!.getTime());
    crash.child.kill('SIGKILL');
    expect((await crash.exit).signal).toBe('SIGKILL');
    expect(recordedEffects(effects)).toEqual([`start ${id} 1`]);

    // Until the lease runs out, nobody else may take the job.
    expect(await queue.claim({ workerId: 'early', leaseMs: 1000 })).toBeUndefined();

    let settle!: (s: { job: Job; outcome: string; at: number }) => void;
    const settled = new Promise<{ job: Job; outcome: string; at: number }>((resolve) => (settle = resolve));
    const handlers = { effect: effectHandler(effects) };
    const worker = createWorker({ queue, leaseMs, pollMs: 25, handlers, onSettled: (job, outcome) => settle({ job, outcome, at: Date.now() }) });
    worker.start();
    const { job, outcome, at } = await settled;
    await worker.stop();

    expect(outcome).toBe('done');
    expect(at).toBeGreaterThanOrEqual(renewed!.leaseExpiresAt!.getTime());
    expect(job.attempts).toBe(2);
    expect(job.lastError?.code).toBe(ErrorCode.QUEUE_LEASE_EXPIRED);
    expect(recordedEffects(effects)).toEqual([`start ${id} 1`, `start ${id} 2`, `done ${id}`]);
    expect(await queue.get(id)).toMatchObject({ state: 'done', attempts: 2 });
    expect(await queue.stats()).toMatchObject({ queued: 0, running: 0, dead: 0 });
    // The delivery is still remembered: a redelivery does not run the job a third time.
    expect(await queue.enqueue({ kind: 'effect', payload: { repo: 'octo/app' }, deliveryId: 'd-1' })).toEqual({ id, duplicate: true, by: 'delivery' });
    await queue.close();
  }, 60_000);

  it('two processes draining one store run each of 200 jobs exactly once', async () => {
    const { file, queue } = store();
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add((await queue.enqueue({ kind: 'drain', payload: { n: i } })).id);

    const outs = ['a', 'b'].map((w) => path.join(dir, `${w}.log`));
    const workers = ['a', 'b'].map((w, i) => startFixture(['drain', file, outs[i]!, `worker-${w}`]));
    await Promise.all(workers.map((w) => w.line('ready')));
    for (const w of workers) w.child.stdin!.write('go\n');
    for (const w of workers) {
      const { code, err } = await w.exit;
      expect(code, err).toBe(0);
    }

    const ran = outs.map((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
    const all = ran.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all)).toEqual(ids);
    // Both took part (they started together), and no job ran in both.
    expect(ran[0]!.length).toBeGreaterThan(0);
    expect(ran[1]!.length).toBeGreaterThan(0);
    expect(await queue.stats()).toMatchObject({ queued: 0, running: 0, dead: 0 });
    for (const id of ids) expect((await queue.get(id))!.attempts).toBe(1);
    await queue.close();
  }, 60_000);
});
