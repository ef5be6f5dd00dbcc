/**
 * A throwaway PostgreSQL cluster for the test run: `initdb` in a temporary folder, a free port on
 * 127.0.0.1, trust authentication (loopback only, nothing in it outlives the run), stopped and
 * deleted at the end. No container, no mock. `scripts/setup-tools --only postgres` installs the
 * Debian package; a missing server fails the suites unless KEYWARDEN_ALLOW_SKIP=1 says to skip them.
 *
 * `test/global-setup.ts` starts one cluster and puts its admin URL in `KEYWARDEN_TEST_PG_URL`; a
 * test file takes a database of its own from it with `createTestDatabase` (a fresh, empty database
 * per file, so files run in parallel without seeing each other). Benchmarks start their own.
 *
 * initdb refuses to run as root: as root the cluster is made and run as the `postgres` user
 * (which the Debian package creates), through `runuser`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './moto.js';
import { skipUnlessAllowed } from './real-part.js';

/** The folder holding initdb, pg_ctl and postgres: on PATH, else Debian's newest /usr/lib/postgresql/N/bin. */
export function findPostgresBin(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout?.trim();
  const candidates: string[] = [];
  if (onPath) {
    const real = spawnSync('readlink', ['-f', onPath], { encoding: 'utf8' }).stdout?.trim();
    if (real) candidates.push(join(real, '..'));
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const v of readdirSync(debian).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(b) - Number(a))) candidates.push(join(debian, v, 'bin'));
  }
  return candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')) && existsSync(join(d, 'postgres')));
}

/** Why the PostgreSQL suites skip: only with the explicit opt-out; otherwise a missing server fails them. */
export function postgresSkipReason(): string | undefined {
  if (process.env.KEYWARDEN_TEST_PG_URL) return undefined;
  return skipUnlessAllowed('PostgreSQL', findPostgresBin() ? 'the test global setup did not start PostgreSQL (KEYWARDEN_TEST_PG_URL is unset)' : 'PostgreSQL is not installed: run scripts/setup-tools --only postgres');
}

export interface PostgresCluster {
  /** The superuser's URL to the `postgres` database. */
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

const asRoot = (): boolean => process.getuid?.() === 0;

function run(bin: string, args: string[], user: boolean): { status: number | null; out: string } {
  const [cmd, argv] = user ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv as string[], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed: run scripts/setup-tools --only postgres');
  const root = asRoot();
  const dir = mkdtempSync(join(tmpdir(), 'kw-pg-'));
  const data = join(dir, 'data');
  if (root) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('Running as root, PostgreSQL needs the "postgres" user (the Debian package creates it): run scripts/setup-tools --only postgres');
    chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  const init = run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], root);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.out.slice(-2000)}`);
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // fsync off and a small footprint: a throwaway cluster on a 2-core machine.
    const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB`;
    const started = run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '60', 'start'], root);
    if (started.status === 0) {
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      return {
        url,
        port,
        dir,
        async stop() {
          run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], root);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastError = started.out;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start: ${lastError.slice(-2000)}`);
}

/** Restarts a cluster's server in place (the fault tests: the database goes away and comes back). */
export function pgCtl(cluster: PostgresCluster, action: 'stop' | 'start'): void {
  const bin = findPostgresBin()!;
  const data = join(cluster.dir, 'data');
  const opts = `-c listen_addresses=127.0.0.1 -c port=${cluster.port} -c unix_socket_directories=${cluster.dir} -c fsync=off -c synchronous_commit=off -c max_connections=200`;
  const args = action === 'stop' ? ['-D', data, '-m', 'fast', '-w', 'stop'] : ['-D', data, '-l', join(cluster.dir, 'log'), '-o', opts, '-w', '-t', '60', 'start'];
  const r = run(join(bin, 'pg_ctl'), args, asRoot());
  if (r.status !== 0) throw new Error(`pg_ctl ${action} failed: ${r.out.slice(-2000)}`);
}

let counter = 0;

/**
 * A fresh, empty database on the run's cluster, for one test file: its URL, and `drop` for
 * `afterAll`. Names are unique per process and call.
 */
export async function createTestDatabase(adminUrl = process.env.KEYWARDEN_TEST_PG_URL): Promise<{ url: string; drop(): Promise<void> }> {
  if (!adminUrl) throw new Error('KEYWARDEN_TEST_PG_URL is unset: the test global setup starts PostgreSQL');
  const name = `kw_test_${process.pid}_${++counter}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Resolves once a connection succeeds (after a restart). */
export async function waitForPostgres(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      return;
    } catch (e) {
      await c.end().catch(() => {});
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
