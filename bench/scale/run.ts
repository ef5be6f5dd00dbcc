/**
 * `npm run bench:scale [-- --deliveries 2000] [--repos 200] [--seconds 60] [--workers 1,2,4] [--serve 2] [--no-sqlite] [--no-docs]`
 *
 * The App at org scale (issue 13): `serve` and `worker` processes — separate OS processes, started
 * as `node bin/keywarden.js serve|worker` — on a throwaway PostgreSQL cluster on this machine,
 * against the GitHub fake (test/helpers/github-fake: real HTTP on loopback, real git repositories,
 * every request validated against GitHub's OpenAPI description). A burst of `--deliveries` push
 * deliveries from `--repos` repositories over `--seconds`, one in `--leak-every` adding a GitHub
 * token, POSTed round-robin to the `serve` replicas and signed as GitHub signs them. Each
 * configuration gets a fresh database, fresh state folders and fresh repositories.
 *
 * Measured per configuration: webhook acknowledgement p50/p99 (from a thread of its own, as in
 * bench/app); delivery → credential disabled p50/p95 (the fake's arrival time of the
 * `POST /credentials/revoke` carrying that delivery's token); jobs drained per second; GitHub REST
 * calls per push; and, counted from the stores and the fake, lost and duplicated jobs and actions:
 * every delivery has exactly one job row and it is done, every leaking push has exactly one full
 * scan, every leaked token is revoked exactly once and nothing else is revoked, no check run or
 * step is recorded twice. The same burst on SQLite with one `keywarden app` process for
 * comparison; `--workers 1,2,4` is the throughput curve (2 `serve` replicas each time; the largest
 * is the headline configuration, whose table sizes feed docs/scale.md).
 *
 * Writes the `### Org scale` section of docs/benchmarks.md and the measured part of docs/scale.md
 * (unless `--no-docs`). `--from src` runs the App from the TypeScript sources through tsx when
 * dist/ cannot be built; `--keep` keeps the run folder (the App's logs) for a look afterwards.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { createGitHubFake, signDelivery, type GitHubFake } from '../../test/helpers/github-fake/index.js';
import { createRng, secretGenerators } from '../../test/fixtures/secrets/generators.js';
import { createTestDatabase, startPostgresCluster, type PostgresCluster } from '../../test/setup/postgres.js';
import { freePort } from '../../test/setup/moto.js';
import { percentile } from '../respond/report.js';
import { pgProgress, pgTableSizes, readPgLedger, readSqliteLedger, sqliteProgress, type Ledger, type TableSize } from './count.js';
import { clusterCpuMs, machineCpuMs, procCpuMs, startAppProcess, type AppProcess } from './processes.js';
import { importPushes, type PlannedCommit } from './pushes.js';
import { createDeliverySender, type DeliverySender, type ScheduledDelivery } from './sender.js';
import { renderBenchmarks, renderScale, writeBetween, type BenchConfig, type ConfigResult } from './report.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (name: string, def: number): number => {
  const v = flag(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${JSON.stringify(v)}`);
  return n;
};
const OPTS = {
  deliveries: Math.floor(num('deliveries', 2000)),
  repos: Math.floor(num('repos', 200)),
  seconds: num('seconds', 60),
  leakEvery: Math.floor(num('leak-every', 10)),
  serve: Math.floor(num('serve', 2)),
  curveDeliveries: flag('curve-deliveries') === '0' ? 0 : Math.floor(num('curve-deliveries', 400)),
  workers: (flag('workers') ?? '1,2,4').split(',').map((s) => Math.floor(Number(s))).filter((n) => n > 0),
  concurrency: flag('concurrency'),
  sqlite: !argv.includes('--no-sqlite'),
  docs: !argv.includes('--no-docs'),
  keep: argv.includes('--keep'),
  from: flag('from') === 'src' ? ('src' as const) : ('dist' as const),
  drainTimeoutS: num('drain-timeout', 900),
  validateResponses: argv.includes('--validate-responses'),
};
const SECRET = 'bench-webhook-secret-0123456789';
const log = (s: string): void => void process.stderr.write(`bench:scale: ${new Date().toISOString().slice(11, 19)} ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Planned {
  deliveryId: string;
  repo: string;
  repoId: number;
  after: string;
  leak?: string;
  headers: Record<string, string>;
  body: string;
}

type Config = BenchConfig;

async function main(): Promise<void> {
  if (!OPTS.workers.length) throw new Error('--workers must list at least one number, e.g. 1,2,4');
  const project = path.resolve(import.meta.dirname, '..', '..');
  if (OPTS.from === 'dist') warnIfStale(project);
  const run = mkdtempSync(path.join(os.tmpdir(), 'kw-bench-scale-'));
  const t0 = Date.now();
  const loadStart = os.loadavg();
  log(`run folder ${run}; ${OPTS.deliveries} deliveries from ${OPTS.repos} repositories over ${OPTS.seconds} s, 1 in ${OPTS.leakEvery} leaking`);
  // Requests are always validated against GitHub's description (that checks the App); the fake's own
  // answers only with --validate-responses: that checks the fake, and its CPU would be the App's.
  const gh = await createGitHubFake({ violationStatus: 400, validateResponses: OPTS.validateResponses });
  const cluster = await startPostgresCluster();
  const sender = createDeliverySender();
  const configs = plannedConfigs();
  log(`configurations: ${configs.map((c) => `${c.label} (${c.deliveries})`).join('; ')}`);
  const results: ConfigResult[] = [];
  let sizes: TableSize[] | undefined;
  try {
    for (const [k, c] of configs.entries()) {
      const r = await runConfig(project, run, gh, cluster, sender, c, k, k === 0);
      results.push(r.result);
      if (r.sizes) sizes = r.sizes;
      log(`${c.label}: ${summary(r.result)}`);
    }
    gh.assertNoViolations();
  } finally {
    await sender.close();
    await cluster.stop();
    await gh.close();
    if (OPTS.keep) log(`kept ${run}`);
    else rmSync(run, { recursive: true, force: true });
  }
  const meta = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    loadStart,
    loadEnd: os.loadavg(),
    wallS: (Date.now() - t0) / 1000,
    command: `npm run bench:scale${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    opts: OPTS,
  };
  const bench = renderBenchmarks(results, meta);
  process.stdout.write(`${bench}\n`);
  const scale = sizes ? renderScale(results[0]!, sizes, meta) : undefined;
  if (scale) process.stdout.write(`\n${scale}\n`);
  if (OPTS.docs) {
    writeBetween(path.join(project, 'docs', 'benchmarks.md'), 'bench:scale', '### Org scale', bench);
    if (scale) writeBetween(path.join(project, 'docs', 'scale.md'), 'bench:scale', '## Measured', scale);
  }
  writeFileSync(path.join(project, 'bench', 'scale', 'last-run.json'), `${JSON.stringify({ meta, results, sizes }, null, 2)}\n`);
  log(`done in ${meta.wallS.toFixed(0)} s`);
}

/**
 * The headline (the issue's burst on PostgreSQL with the most workers), the same burst on SQLite,
 * then the throughput curve: every `--workers` count on a smaller burst at the same rate and the
 * same pushes per repository (`--curve-deliveries`; 0 runs the curve on the full burst). Far more
 * arrives than 2 cores drain either way, so each point measures the drain rate, not the arrival rate.
 */
function plannedConfigs(): Config[] {
  const name = (w: number): string => `PostgreSQL, ${OPTS.serve} serve + ${w} worker${w === 1 ? '' : 's'}`;
  const full = { deliveries: OPTS.deliveries, repos: OPTS.repos, seconds: OPTS.seconds };
  const top = Math.max(...OPTS.workers);
  const out: Config[] = [{ label: name(top), engine: 'postgres', serve: OPTS.serve, workers: top, ...full, curve: false }];
  if (OPTS.sqlite) out.push({ label: 'SQLite, 1 process (`keywarden app`)', engine: 'sqlite', serve: 0, workers: 0, ...full, curve: false });
  const cd = OPTS.curveDeliveries;
  const small = cd > 0 && cd < OPTS.deliveries;
  const scale = small ? cd / OPTS.deliveries : 1;
  const size = small ? { deliveries: cd, repos: Math.max(1, Math.round(OPTS.repos * scale)), seconds: OPTS.seconds * scale } : full;
  for (const w of [...new Set(OPTS.workers)].sort((a, b) => a - b)) {
    if (!small && w === top) continue;
    out.push({ label: `${name(w)}${small ? ` (curve, ${size.deliveries} deliveries)` : ''}`, engine: 'postgres', serve: OPTS.serve, workers: w, ...size, curve: true });
  }
  return out;
}

function summary(r: ConfigResult): string {
  return `ack p99 ${r.ack.p99.toFixed(0)} ms, disabled p95 ${(r.disabled.p95 / 1000).toFixed(1)} s, ${r.jobsPerS.toFixed(1)} jobs/s, drain ${r.drainS.toFixed(0)} s, lost ${r.lost.total}, duplicated ${r.duplicated.total}`;
}

async function runConfig(project: string, run: string, gh: GitHubFake, cluster: PostgresCluster, sender: DeliverySender, c: Config, k: number, measureSizes: boolean): Promise<{ result: ConfigResult; sizes?: TableSize[] }> {
  const owner = `org${k}`;
  const installationId = 100 + k;
  const dir = path.join(run, `config-${k}`);
  mkdirSync(dir, { recursive: true });
  log(`${c.label}: preparing ${c.repos} repositories and ${c.deliveries} pushes`);
  const tPrep = Date.now();
  const warmRepos = Math.max(2, c.workers);
  const repoIds = new Map<string, number>();
  await pool(
    Array.from({ length: c.repos + warmRepos }, (_, i) => (i < c.repos ? `repo-${i}` : `warm-${i - c.repos}`)),
    8,
    async (name) => {
      const info = await gh.createRepo(owner, name, { installationId, files: { 'README.md': `# ${name}\n`, 'src/index.ts': 'export const x = 1;\n' } });
      repoIds.set(name, info.id);
    },
  );
  const plan = await planPushes(gh, owner, repoIds, c, k);
  const warm = await planWarmUp(gh, owner, repoIds, warmRepos, k);
  log(`${c.label}: prepared in ${((Date.now() - tPrep) / 1000).toFixed(0)} s (${plan.filter((p) => p.leak).length} leaking pushes)`);

  const db = c.engine === 'postgres' ? await createTestDatabase(cluster.url) : undefined;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    APP_ID: String(gh.appId),
    PRIVATE_KEY: gh.privateKey,
    GITHUB_API_URL: gh.apiUrl,
    KEYWARDEN_GIT_URL: `${gh.apiUrl}/git`,
    KEYWARDEN_WEB_URL: 'https://github.com',
    KEYWARDEN_CACHE_DIR: path.join(project, '.cache', 'keywarden', 'policy'),
    KEYWARDEN_LOCAL_PASSPHRASE: 'bench-local-passphrase',
    LOG_LEVEL: 'warn',
    ...(OPTS.concurrency ? { KEYWARDEN_APP_CONCURRENCY: OPTS.concurrency } : {}),
    ...(db ? { KEYWARDEN_DATABASE_URL: db.url } : {}),
  };
  const procs: AppProcess[] = [];
  const start = async (role: 'serve' | 'worker' | 'app', i: number): Promise<AppProcess> => {
    const stateDir = path.join(dir, `${role}-${i}`);
    const p = await startAppProcess({
      project,
      role,
      from: OPTS.from,
      env: { ...env, KEYWARDEN_STATE_DIR: stateDir, ...(role === 'worker' ? {} : { WEBHOOK_SECRET: SECRET }) },
      logFile: path.join(dir, `${role}-${i}.log`),
      ...(role === 'worker' ? {} : { port: await freePort() }),
    });
    procs.push(p);
    return p;
  };
  let client: pg.Client | undefined;
  try {
    if (c.engine === 'postgres') {
      client = new pg.Client({ connectionString: db!.url });
      await client.connect();
      // One replica first: it migrates the schema (the others would wait on the advisory lock anyway).
      await start('serve', 0);
      await Promise.all([...Array.from({ length: c.serve - 1 }, (_, i) => start('serve', i + 1)), ...Array.from({ length: c.workers }, (_, i) => start('worker', i))]);
      await waitListening(client, c.workers);
    } else {
      await start('app', 0);
    }
    const urls = procs.filter((p) => p.url).map((p) => `${p.url}/api/github/webhooks`);
    const sqliteDir = path.join(dir, 'app-0');
    const progress = (ids: readonly string[]): Promise<{ open: number; seen: number; done: number; dead: number }> =>
      client ? pgProgress(client, ids) : Promise.resolve(sqliteProgress(sqliteDir, ids));
    const crashed = (): AppProcess | undefined => procs.find((p) => p.exitCode() !== undefined);

    log(`${c.label}: warm-up (${warm.length} pushes)`);
    const warmSent = await sender.burst(schedule(warm, urls, 0), Date.now());
    if (warmSent.some((s) => s.status !== 202)) throw new Error(`a warm-up delivery was answered ${warmSent.find((s) => s.status !== 202)!.status}`);
    await drain(() => progress(warm.map((w) => w.deliveryId)), warm.length, 180, crashed);

    const reqFrom = gh.requests.length;
    const gitFrom = gh.gitRequests.length;
    const cpu0 = cpuSnapshot(procs, cluster);
    const depth: Array<{ t: number; open: number; done: number }> = [];
    const burstStart = Date.now() + 200;
    log(`${c.label}: burst of ${plan.length} deliveries over ${c.seconds} s`);
    const sending = sender.burst(schedule(plan, urls, c.seconds * 1000), burstStart);
    let sentAll = false;
    void sending.then(() => (sentAll = true));
    const ids = plan.map((p) => p.deliveryId);
    const until = burstStart + OPTS.drainTimeoutS * 1000;
    let drained = false;
    let lastLog = 0;
    for (;;) {
      const st = await progress(ids);
      depth.push({ t: Date.now() - burstStart, open: st.open, done: st.done });
      const bad = crashed();
      if (bad) throw new Error(`a ${bad.role} process exited (${bad.exitCode()}) during the burst`);
      if (sentAll && st.seen === ids.length && st.open === 0) {
        drained = true;
        break;
      }
      if (Date.now() > until) break;
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`${c.label}: t=${((Date.now() - burstStart) / 1000).toFixed(0)} s, ${st.seen}/${ids.length} delivered, ${st.open} jobs open, ${st.done} done`);
      }
      await sleep(500);
    }
    const sent = await sending;
    // Requests still on their way to the fake (a revocation's answer) land before the count.
    await sleep(1000);
    const cpu1 = cpuSnapshot(procs, cluster);
    const peakRss = procs.map((p) => ({ role: p.role, bytes: p.peakRss() }));
    const ledger = client ? await readPgLedger(db!.url) : readSqliteLedger(sqliteDir);
    const sizes = measureSizes && db ? await pgTableSizes(db.url) : undefined;
    const result = { ...score(c, plan, sent, gh, reqFrom, gitFrom, ledger, depth, drained, cpu0, cpu1, peakRss, owner), warmPushes: warm.length, warmLeaks: warm.filter((w) => w.leak).length };
    return { result, ...(sizes ? { sizes } : {}) };
  } finally {
    await client?.end();
    await Promise.all(procs.map((p) => p.stop()));
    await db?.drop().catch(() => undefined);
  }
}

/**
 * Round r, repository j is delivery r·repos + j: every repository pushes once per round, in order
 * (each push's `before` is the previous one's `after`). Repository j leaks in the rounds where
 * r ≡ j (mod leakEvery): one push in `leakEvery` leaks, spread over the burst and over the repositories.
 */
async function planPushes(gh: GitHubFake, owner: string, repoIds: Map<string, number>, c: Config, k: number): Promise<Planned[]> {
  const rounds = Math.ceil(c.deliveries / c.repos);
  // Commit times: strictly increasing per repository, and after anything the fake made so far.
  const epoch = Math.floor(Date.now() / 1000) + 1;
  const byRepo = await pool(Array.from({ length: c.repos }, (_, j) => j), 4, async (j) => {
    const name = `repo-${j}`;
    const planned: Array<{ i: number; leak?: string; commit: PlannedCommit }> = [];
    for (let r = 0; r < rounds; r++) {
      const i = r * c.repos + j;
      if (i >= c.deliveries) break;
      const leak = r % OPTS.leakEvery === j % OPTS.leakEvery ? secretGenerators['github-pat-classic']!(createRng(`bench-scale-${k}-${c.engine}-${i}`)).secret : undefined;
      const files = leak ? { [`src/config-${r}.ts`]: `export const token = '${leak}';\n` } : { [`src/f${r}.ts`]: `export const v${r} = ${i};\n` };
      planned.push({ i, ...(leak ? { leak } : {}), commit: { files, message: leak ? `Configure the client (${r})` : `Update f${r}` } });
    }
    const pushes = await importPushes(gh, owner, name, 'main', planned.map((x) => x.commit), epoch);
    return planned.map((x, n) => {
      const s = signDelivery(pushes[n]!.delivery, SECRET);
      const p: Planned = { deliveryId: s.headers['x-github-delivery']!, repo: name, repoId: repoIds.get(name)!, after: pushes[n]!.after, ...(x.leak ? { leak: x.leak } : {}), headers: s.headers, body: s.body };
      return { i: x.i, p };
    });
  });
  return byRepo
    .flat()
    .sort((a, b) => a.i - b.i)
    .map((x) => x.p);
}

/** One clean and one leaking push per warm repository: every process has its policy built and its detectors loaded before the burst. */
async function planWarmUp(gh: GitHubFake, owner: string, repoIds: Map<string, number>, n: number, k: number): Promise<Planned[]> {
  const out: Planned[] = [];
  for (let j = 0; j < n; j++) {
    const name = `warm-${j}`;
    for (const leak of [undefined, secretGenerators['github-pat-classic']!(createRng(`bench-scale-warm-${k}-${j}`)).secret]) {
      const before = (await gh.refSha(owner, name, 'heads/main'))!;
      const after = await gh.commit(owner, name, { branch: 'main', files: leak ? { 'src/warm.ts': `export const t = '${leak}';\n` } : { 'src/w.ts': 'export const w = 1;\n' } });
      const s = signDelivery(await gh.pushEvent(owner, name, { before, after }), SECRET);
      out.push({ deliveryId: s.headers['x-github-delivery']!, repo: name, repoId: repoIds.get(name)!, after, ...(leak ? { leak } : {}), headers: s.headers, body: s.body });
    }
  }
  return out;
}

/** Evenly spaced over `spanMs`, round-robin over the intake URLs. */
function schedule(plan: readonly Planned[], urls: readonly string[], spanMs: number): ScheduledDelivery[] {
  return plan.map((p, i) => ({ url: urls[i % urls.length]!, headers: p.headers, body: p.body, offsetMs: plan.length > 1 ? (i * spanMs) / plan.length : 0 }));
}

async function drain(progress: () => Promise<{ open: number; seen: number }>, expect: number, timeoutS: number, crashed: () => AppProcess | undefined): Promise<void> {
  const until = Date.now() + timeoutS * 1000;
  for (;;) {
    const st = await progress();
    if (st.seen === expect && st.open === 0) return;
    const bad = crashed();
    if (bad) throw new Error(`a ${bad.role} process exited (${bad.exitCode()})`);
    if (Date.now() > until) throw new Error(`not drained within ${timeoutS} s (${st.seen}/${expect} delivered, ${st.open} open)`);
    await sleep(200);
  }
}

/** Every worker process holds its LISTEN connection (so a `serve` replica's NOTIFY wakes it). */
async function waitListening(client: pg.Client, workers: number): Promise<void> {
  const until = Date.now() + 90_000;
  for (;;) {
    const r = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN keywarden_jobs'");
    if (Number(r.rows[0]!.n) >= workers) return;
    if (Date.now() > until) throw new Error(`only ${r.rows[0]!.n} of ${workers} workers listen for jobs after 90 s`);
    await sleep(200);
  }
}

interface CpuSnapshot {
  at: number;
  bench: number;
  apps: Array<{ role: string; ms: number }>;
  postgres: number;
  machine: { busy: number; total: number };
}

function cpuSnapshot(procs: readonly AppProcess[], cluster: PostgresCluster): CpuSnapshot {
  return {
    at: Date.now(),
    bench: procCpuMs(process.pid),
    apps: procs.map((p) => ({ role: p.role, ms: p.cpuMs() })),
    postgres: clusterCpuMs(path.join(cluster.dir, 'data')),
    machine: machineCpuMs(),
  };
}

function score(
  c: Config,
  plan: readonly Planned[],
  sent: ReadonlyArray<{ status: number; ms: number; sentAt: number }>,
  gh: GitHubFake,
  reqFrom: number,
  gitFrom: number,
  ledger: Ledger,
  depth: ReadonlyArray<{ t: number; open: number; done: number }>,
  drained: boolean,
  cpu0: CpuSnapshot,
  cpu1: CpuSnapshot,
  peakRss: ReadonlyArray<{ role: string; bytes: number }>,
  owner: string,
): ConfigResult {
  const requests = gh.requests.slice(reqFrom);
  const refused = sent.filter((s) => s.status !== 202).length;
  const acks = sent.filter((s) => s.status === 202).map((s) => s.ms);

  // Jobs: one per delivery, done; one full scan per leaking push; no dedupe key twice.
  const byDelivery = new Map<string, typeof ledger.jobs>();
  for (const j of ledger.jobs) if (j.deliveryId) byDelivery.set(j.deliveryId, [...(byDelivery.get(j.deliveryId) ?? []), j]);
  const byKey = new Map<string, typeof ledger.jobs>();
  for (const j of ledger.jobs) if (j.dedupeKey) byKey.set(j.dedupeKey, [...(byKey.get(j.dedupeKey) ?? []), j]);
  let noJob = 0;
  let notDone = 0;
  let twoJobs = 0;
  let noDeliveryRecord = 0;
  let scansMissing = 0;
  let scansTwice = 0;
  let scansNotDone = 0;
  let cleanScanned = 0;
  const benchJobs: typeof ledger.jobs = [];
  for (const p of plan) {
    const js = byDelivery.get(p.deliveryId) ?? [];
    benchJobs.push(...js);
    if (!js.length) noJob++;
    if (js.length > 1) twoJobs++;
    if (js.some((j) => j.state !== 'done')) notDone++;
    if (!ledger.deliveries.has(p.deliveryId)) noDeliveryRecord++;
    const scans = byKey.get(`pushscan:${p.repoId}:refs/heads/main:${p.after}`) ?? [];
    benchJobs.push(...scans);
    if (p.leak) {
      if (!scans.length) scansMissing++;
      if (scans.length > 1) scansTwice++;
      if (scans.some((j) => j.state !== 'done')) scansNotDone++;
    } else if (scans.length) cleanScanned++;
  }
  const keysTwice = [...byKey.values()].filter((js) => js.length > 1).length;

  // Revocations at the fake: each leaked token exactly once, nothing else.
  const revokes = requests.filter((r) => r.route === '/credentials/revoke' && r.status === 202);
  const revokedCount = new Map<string, number>();
  const firstRevokeAt = new Map<string, number>();
  for (const r of revokes) {
    for (const t of ((r.body as { credentials?: string[] } | undefined)?.credentials ?? [])) {
      revokedCount.set(t, (revokedCount.get(t) ?? 0) + 1);
      if (!firstRevokeAt.has(t)) firstRevokeAt.set(t, r.at);
    }
  }
  const leaks = plan.filter((p) => p.leak);
  const leakTokens = new Set(leaks.map((p) => p.leak!));
  const notRevoked = leaks.filter((p) => !revokedCount.has(p.leak!)).length;
  const revokedTwice = leaks.filter((p) => (revokedCount.get(p.leak!) ?? 0) > 1).length;
  const revokedStranger = [...revokedCount.keys()].filter((t) => !leakTokens.has(t)).length;
  const sentAt = new Map(plan.map((p, i) => [p.deliveryId, sent[i]!.sentAt]));
  const toDisabled = leaks.filter((p) => firstRevokeAt.has(p.leak!)).map((p) => firstRevokeAt.get(p.leak!)! - sentAt.get(p.deliveryId)!);

  // Check runs on the pushed commits: at most one `keywarden` run per commit.
  const benchShas = new Set(plan.map((p) => p.after));
  const runsPerSha = new Map<string, number>();
  for (const repo of new Set(plan.map((p) => p.repo))) {
    for (const run of gh.checkRuns(owner, repo)) if (benchShas.has(run.head_sha)) runsPerSha.set(`${run.head_sha}:${run.name}`, (runsPerSha.get(`${run.head_sha}:${run.name}`) ?? 0) + 1);
  }
  const checkRunsTwice = [...runsPerSha.values()].filter((n) => n > 1).length;
  const pulls = [...new Set(plan.map((p) => p.repo))].reduce((n, repo) => n + gh.repoState(owner, repo).pulls.size, 0);

  // Step records: a done revoke step per leaked credential, none twice.
  const revokeSteps = ledger.steps.filter((s) => s.kind === 'revoke' && s.status === 'done');
  const revokeStepsByFp = new Map<string, number>();
  for (const s of revokeSteps) revokeStepsByFp.set(s.fingerprints, (revokeStepsByFp.get(s.fingerprints) ?? 0) + 1);
  const stepsTwice = [...revokeStepsByFp.values()].filter((n) => n > 1).length;

  // Throughput: the burst's jobs over the time from the first delivery to the last job's end.
  const first = Math.min(...sent.map((s) => s.sentAt));
  const lastSent = Math.max(...sent.map((s) => s.sentAt));
  const finished = benchJobs.filter((j) => j.finishedAt !== null).map((j) => j.finishedAt!);
  const last = finished.length ? Math.max(...finished) : Date.now();
  const doneJobs = benchJobs.filter((j) => j.state === 'done').length;
  const drainS = (last - first) / 1000;
  // The fast path alone: the push jobs (compare, pre-check, revocation), without the full scans they queue.
  const pushFinished = benchJobs.filter((j) => j.kind === 'push' && j.finishedAt !== null).map((j) => j.finishedAt!);
  const fastDrainS = ((pushFinished.length ? Math.max(...pushFinished) : last) - first) / 1000;

  const tokenRoute = '/app/installations/{installation_id}/access_tokens';
  const rest = requests.filter((r) => r.route !== tokenRoute);
  const byRoute = new Map<string, number>();
  for (const r of rest) byRoute.set(`${r.method} ${r.route ?? r.path}`, (byRoute.get(`${r.method} ${r.route ?? r.path}`) ?? 0) + 1);
  const cpu = (a: CpuSnapshot, b: CpuSnapshot) => {
    const wall = b.at - a.at;
    const apps = b.apps.reduce((s, x, i) => s + x.ms - (a.apps[i]?.ms ?? 0), 0);
    const bench = b.bench - a.bench;
    const postgres = b.postgres - a.postgres;
    const busy = b.machine.busy - a.machine.busy;
    return { wallS: wall / 1000, appsS: apps / 1000, fakeS: bench / 1000, postgresS: postgres / 1000, otherS: Math.max(0, busy - apps - bench - postgres) / 1000, machineBusyShare: busy / (b.machine.total - a.machine.total) };
  };

  const lost = { noJob, notDone, noDeliveryRecord, scansMissing, scansNotDone, notRevoked, refused, notDrained: drained ? 0 : 1 };
  const duplicated = { twoJobs, keysTwice, scansTwice, revokedTwice, revokedStranger, checkRunsTwice, stepsTwice };
  const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
  return {
    label: c.label,
    engine: c.engine,
    serve: c.serve,
    workers: c.workers,
    deliveries: plan.length,
    repos: c.repos,
    seconds: c.seconds,
    curve: c.curve,
    leaks: leaks.length,
    ack: { p50: percentile(acks, 50), p99: percentile(acks, 99), max: Math.max(...acks) },
    disabled: { n: toDisabled.length, p50: percentile(toDisabled, 50), p95: percentile(toDisabled, 95), max: Math.max(...toDisabled) },
    jobs: benchJobs.length,
    doneJobs,
    jobsPerS: doneJobs / drainS,
    pushesPerS: plan.length / drainS,
    drainS,
    fastDrainS,
    fastPushesPerS: plan.length / fastDrainS,
    afterLastSendS: (last - lastSent) / 1000,
    drained,
    peakDepth: Math.max(0, ...depth.map((d) => d.open)),
    jobsPerSWhileArriving: whileArriving(depth, c.seconds * 1000),
    retried: benchJobs.filter((j) => j.attempts > 1).length,
    restPerPush: rest.length / plan.length,
    restInstallationPerPush: rest.filter((r) => r.auth === 'installation').length / plan.length,
    revokeRequests: revokes.length,
    tokenRequests: requests.length - rest.length,
    gitPerPush: (gh.gitRequests.length - gitFrom) / plan.length,
    routes: [...byRoute.entries()].sort((a, b) => b[1] - a[1]).map(([route, n]) => ({ route, n })),
    cleanScanned,
    pulls,
    revokeSteps: revokeSteps.length,
    lost: { ...lost, total: sum(lost) },
    duplicated: { ...duplicated, total: sum(duplicated) },
    cpu: cpu(cpu0, cpu1),
    peakRssMb: peakRss.map((p) => ({ role: p.role, mb: p.bytes / 1024 / 1024 })),
  };
}

/** Jobs finished per second while the deliveries were still arriving (from the progress samples). */
function whileArriving(depth: ReadonlyArray<{ t: number; done: number }>, spanMs: number): number {
  const first = depth.find((d) => d.t >= 0);
  const end = depth.find((d) => d.t >= spanMs);
  return first && end && end.t > first.t ? ((end.done - first.done) * 1000) / (end.t - first.t) : NaN;
}

async function pool<T, R>(items: readonly T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** dist/ older than the App's sources: the run measures an older build (warn, do not stop: another engineer may be mid-edit). */
function warnIfStale(project: string): void {
  const bundle = path.join(project, 'dist', 'bundle', 'main.js');
  if (!existsSync(bundle)) throw new Error('dist/bundle/main.js is missing: run `npm run build` first (or pass --from src)');
  const built = statSync(bundle).mtimeMs;
  const newer = ['src/compose-app.ts', 'src/store/pg-queue.ts', 'src/store/pg.ts', 'src/store/queue.ts', 'src/app/run-push.ts', 'src/cli/commands/app.ts']
    .filter((f) => existsSync(path.join(project, f)) && statSync(path.join(project, f)).mtimeMs > built);
  if (newer.length) log(`warning: dist/ is older than ${newer.join(', ')}; \`npm run build\` to measure the current sources`);
}

await main();
