/**
 * `npm run build && npm run bench:respond [-- --runs N] [--backends local,aws] [--cli N] [--no-docs]`
 *
 * How long after a leaking commit exists `keywarden respond` has (a) disabled the leaked
 * credential and (b) committed the remediation patch — per backend: the embedded local
 * keystore, and AWS IAM (moto) through the `aws-kms` backend's IAM revoker.
 *
 * Each run gets a fresh git repository and a fresh credential (harness.ts), commits the leak,
 * and runs the pipeline exactly as `keywarden respond --git HEAD~1..HEAD` does: `compose` +
 * `SqliteStepStore` + `runPipeline` from dist/ (keywarden.ts), in this process (so Node start-up
 * is not measured), with `onStep` marking when the revoke and the patch steps are done. Then
 * `--cli` runs (default 5) of the built CLI, a child process each (`node bin/keywarden.js
 * respond`), show what a cold process adds; their step times come from the step store. After
 * every run the backend is asked whether the credential really is disabled.
 *
 * Started through register-tsx.mjs (tsx in the main thread only), not `--import tsx`, which the
 * scan's worker threads would inherit.
 *
 * Writes the `### Respond` section of docs/benchmarks.md between its markers (unless --no-docs).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PipelineEvent } from '../../src/pipeline/run.js';
import type { PipelineReport, StepResult } from '../../src/pipeline/types.js';
import { motoSkipReason } from '../../test/setup/moto.js';
import { BACKEND_NAMES, CLEAN_CONFIG, openAws, openLocal, POLICY, type BackendName, type Harness, type Leak } from './harness.js';
import { clearBuildCache, compose, isKeywardenError, repoRoot, runPipeline, SqliteStepStore } from './keywarden.js';
import { render, renderConsole, stats, writeSection, type BenchMeta, type RunMode, type RunResult } from './report.js';

const log = (s: string): void => void process.stderr.write(`bench:respond: ${s}\n`);

interface Options {
  runs: number;
  cli: number;
  backends: BackendName[];
  docs: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const count = (name: string, dflt: number): number => {
    const v = value(name);
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} takes a whole number`);
    return n;
  };
  const backends = (value('--backends') ?? BACKEND_NAMES.join(',')).split(',').map((s) => s.trim());
  for (const b of backends) if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new Error(`unknown backend "${b}" (use ${BACKEND_NAMES.join(', ')})`);
  return { runs: count('--runs', 50), cli: count('--cli', 5), backends: backends as BackendName[], docs: !argv.includes('--no-docs') };
}

const RANGE = 'HEAD~1..HEAD';
const MAX_FILE_SIZE = 50 * 1024 * 1024; // the CLI's default --max-file-size 50MB

/** git with a fixed identity and no hooks (the benchmark's own commits). */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=Bench', '-c', 'user.email=bench@example.test', ...args], { cwd, encoding: 'utf8' });
}

/** A repository with the policy and a clean config on `main`. */
function makeRepo(dir: string): void {
  mkdirSync(path.join(dir, '.github'), { recursive: true });
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'README.md'), 'bench\n');
  writeFileSync(path.join(dir, '.github', 'keywarden.yml'), POLICY);
  writeFileSync(path.join(dir, 'src', 'config.ts'), CLEAN_CONFIG);
  writeFileSync(path.join(dir, 'src', 'main.ts'), "import { config } from './config.js';\nexport const region: string = config.region;\n");
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'app');
}

/** The mistake: the credential pasted into the typed config and committed. Returns when the commit exists. */
function commitLeak(dir: string, leak: Leak): void {
  writeFileSync(path.join(dir, 'src', 'config.ts'), leak.source);
  git(dir, 'add', 'src/config.ts');
  git(dir, 'commit', '-qm', 'settings');
}

const isLeakStep = (r: Pick<StepResult, 'step'>, leak: Leak): boolean => {
  const t = r.step.target;
  return t?.kind === 'managed-key' ? t.keyId === leak.id : t?.kind === 'credential' ? t.credentialId === leak.id : false;
};

/** What must be true after a run, short of the backend's own word (checked by the caller). */
function checkReport(report: PipelineReport, repo: string, leak: Leak): string | undefined {
  const kinds = report.steps.map((s) => `${s.step.kind}:${s.status}`);
  const revoke = report.steps.filter((s) => s.step.kind === 'revoke' && isLeakStep(s, leak));
  if (revoke.length !== 1) return `expected one revoke step for the leaked credential, got ${revoke.length} (${kinds.join(', ')})`;
  const notDone = report.steps.filter((s) => s.status !== 'done' || s.replayed);
  if (notDone.length) return `steps not done: ${notDone.map((s) => `${s.step.kind}:${s.status}${s.replayed ? ' (replayed)' : ''}${s.code ? ` [${s.code}]` : ''}`).join(', ')}`;
  if (!report.steps.some((s) => s.step.kind === 'patch')) return `no patch step (${kinds.join(', ')})`;
  if (!report.patch) return 'no patch in the report';
  const at = git(repo, 'rev-parse', '--verify', `refs/heads/${report.patch.branch}`).trim();
  if (at !== report.patch.commit) return `branch ${report.patch.branch} is at ${at.slice(0, 12)}, not the reported ${report.patch.commit.slice(0, 12)}`;
  return undefined;
}

const describeError = (e: unknown): string => (isKeywardenError(e) ? `${e.message} [${e.code}]` : e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : 'unknown error');

/** One run in this process, as `keywarden respond --git HEAD~1..HEAD` runs it. */
async function runInProcess(h: Harness, repo: string, leak: Leak): Promise<Omit<RunResult, 'backend' | 'mode' | 'run'>> {
  clearBuildCache(); // the wasm comes from the disk cache, as for a new CLI process
  commitLeak(repo, leak);
  const t0 = performance.now();
  let disabledAt: number | undefined;
  let patchedAt: number | undefined;
  const onStep = (r: StepResult): void => {
    if (r.status !== 'done') return;
    if (r.step.kind === 'revoke' && isLeakStep(r, leak)) disabledAt = performance.now();
    if (r.step.kind === 'patch') patchedAt = performance.now();
  };
  const c = compose({ cwd: repo, env: h.env, actor: 'cli:bench', backend: h.backend });
  let report: PipelineReport;
  try {
    const cfg = await c.backendConfig();
    const steps = SqliteStepStore.open(path.join(cfg.stateDir, 'pipeline.db'));
    try {
      const event: PipelineEvent = { path: repo, source: { kind: 'range', range: RANGE }, dryRun: false, repo: { name: path.basename(repo), visibility: 'private' }, scan: { maxFileSize: MAX_FILE_SIZE } };
      report = await runPipeline(event, { composition: c, steps, onStep });
    } finally {
      await steps.close();
    }
  } finally {
    await c.close();
  }
  const totalMs = performance.now() - t0;
  const timing = { ...(disabledAt !== undefined ? { disabledMs: disabledAt - t0 } : {}), ...(patchedAt !== undefined ? { patchedMs: patchedAt - t0 } : {}), totalMs };
  const problem = checkReport(report, repo, leak);
  return problem ? { ...timing, ok: false, failure: problem } : { ...timing, ok: true };
}

/** One run of the built CLI in a child process; step times from the step store's `finished_at`. */
async function runCli(h: Harness, repo: string, leak: Leak): Promise<Omit<RunResult, 'backend' | 'mode' | 'run'>> {
  commitLeak(repo, leak);
  const wall0 = Date.now();
  const t0 = performance.now();
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = execFile(process.execPath, [path.join(repoRoot, 'bin', 'keywarden.js'), 'respond', '.', '--git', RANGE, '--format', 'json', '--actor', 'cli:bench', ...h.cliFlags], { cwd: repo, env: h.env, maxBuffer: 1 << 24 }, (err, out) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: out }),
    );
    child.stdin?.end();
  });
  const totalMs = performance.now() - t0;
  if (code !== 1) return { totalMs, ok: false, failure: `exit code ${code} (expected 1: found, every step done)` };
  let report: PipelineReport;
  try {
    report = JSON.parse(stdout) as PipelineReport;
  } catch {
    return { totalMs, ok: false, failure: 'the CLI printed no JSON report' };
  }
  const store = SqliteStepStore.open(path.join(h.env.KEYWARDEN_STATE_DIR!, 'pipeline.db'));
  let disabledMs: number | undefined;
  let patchedMs: number | undefined;
  try {
    const ids = new Map(report.steps.map((s) => [s.step.id, s]));
    for (const rec of await store.list()) {
      const s = ids.get(rec.id);
      if (!s || rec.status !== 'done' || !rec.finishedAt) continue;
      const at = Date.parse(rec.finishedAt) - wall0;
      if (s.step.kind === 'revoke' && isLeakStep(s, leak)) disabledMs = at;
      if (s.step.kind === 'patch') patchedMs = at;
    }
  } finally {
    await store.close();
  }
  const timing = { ...(disabledMs !== undefined ? { disabledMs } : {}), ...(patchedMs !== undefined ? { patchedMs } : {}), totalMs };
  const problem = checkReport(report, repo, leak);
  return problem ? { ...timing, ok: false, failure: problem } : { ...timing, ok: true };
}

async function oneRun(h: Harness, mode: RunMode, run: number, work: string): Promise<RunResult> {
  const repo = path.join(work, 'repos', `${h.name}-${mode}-${run}`);
  const base = { backend: h.name, mode, run };
  try {
    makeRepo(repo);
    const leak = await h.nextLeak();
    const r = mode === 'cli' ? await runCli(h, repo, leak) : await runInProcess(h, repo, leak);
    const verdict = await h.verify(leak);
    if (!verdict.ok) return { ...base, ...r, ok: false, failure: `${r.failure ? `${r.failure}; ` : ''}not disabled: ${verdict.detail}` };
    return { ...base, ...r };
  } catch (e) {
    return { ...base, ok: false, failure: describeError(e) };
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

/** A cold `node bin/keywarden.js --help`: what a CLI run spends before the pipeline starts. */
async function timeStartup(): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [path.join(repoRoot, 'bin', 'keywarden.js'), '--help'], { cwd: repoRoot }, (err) => (err ? reject(err) : resolve()));
  });
  return performance.now() - t0;
}

/** dist/ older than the newest file under src/: the CLI runs would measure old code. */
function distIsStale(): boolean {
  const newest = (dir: string): number => {
    let m = 0;
    for (const f of readdirSync(dir, { recursive: true }) as string[]) {
      if (f.endsWith('.ts')) m = Math.max(m, statSync(path.join(dir, f)).mtimeMs);
    }
    return m;
  };
  const main = path.join(repoRoot, 'dist', 'cli', 'main.js');
  try {
    return statSync(main).mtimeMs < newest(path.join(repoRoot, 'src'));
  } catch {
    return true;
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const backends = opts.backends.filter((b) => {
    if (b === 'aws' && motoSkipReason) {
      log(`aws skipped: ${motoSkipReason}`);
      return false;
    }
    return true;
  });
  const distStale = distIsStale();
  if (distStale) log('warning: dist/ is older than src/ — run `npm run build` first, or this measures old code');
  if (process.execArgv.some((a) => a === 'tsx' || a.startsWith('tsx/'))) log('warning: started with --import tsx: the scan workers load tsx too and every run is slower than the CLI (use npm run bench:respond)');
  const loadStart = os.loadavg();
  const work = mkdtempSync(path.join(os.tmpdir(), 'kw-bench-respond-'));
  const cacheDir = path.join(work, 'policy-cache'); // empty: the first run builds the policy
  const results: RunResult[] = [];
  const setups: BenchMeta['setups'] = {};
  try {
    for (const name of backends) {
      const h = name === 'local' ? await openLocal(path.join(work, name), cacheDir) : await openAws(path.join(work, name), cacheDir);
      setups[name] = h.setup;
      try {
        log(`${name}: first run (warm-up)`);
        results.push(await oneRun(h, 'first', 0, work));
        for (let i = 1; i <= opts.runs; i++) {
          const r = await oneRun(h, 'in-process', i, work);
          results.push(r);
          if (!r.ok) log(`${name}: run ${i} failed: ${r.failure ?? ''}`);
          if (i % 10 === 0) log(`${name}: ${i}/${opts.runs} in-process runs`);
        }
        for (let i = 1; i <= opts.cli; i++) {
          const r = await oneRun(h, 'cli', i, work);
          results.push(r);
          if (!r.ok) log(`${name}: CLI run ${i} failed: ${r.failure ?? ''}`);
        }
        log(`${name}: ${opts.cli} CLI runs`);
      } finally {
        await h.close();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const startup: number[] = [];
  for (let i = 0; i < opts.cli; i++) startup.push(await timeStartup());
  const startupStats = stats(startup);

  process.stdout.write(renderConsole(results, backends));
  if (startupStats) process.stdout.write(`CLI start-up alone (keywarden --help): p50 ${startupStats.p50.toFixed(0)} ms, max ${startupStats.max.toFixed(0)} ms\n`);
  const meta: BenchMeta = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    loadStart,
    loadEnd: os.loadavg(),
    runs: opts.runs,
    cliRuns: opts.cli,
    setups,
    distStale,
    ...(startupStats ? { startup: startupStats } : {}),
  };
  if (opts.docs) {
    writeSection(path.join(repoRoot, 'docs', 'benchmarks.md'), render(results, meta, backends));
    log('wrote the ### Respond section of docs/benchmarks.md');
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:respond: failed: ${describeError(e)}\n`);
  process.exitCode = 1;
});
