/**
 * `npm run bench:scan`: Keywarden, Gitleaks and secretlint on the same corpus, in one run.
 *
 * 1. Build or reuse the corpus (corpus.ts) and its manifest of planted secrets.
 * 2. Warm the page cache (read every corpus file) and start each tool once, untimed.
 * 3. Time Keywarden and Gitleaks alternately, `--runs` times each, and take the median;
 *    time secretlint once, on a fixed sample of the files (as shipped) or on the whole corpus
 *    when it fits the budget (with its always-on profiler disabled).
 * 4. Score the findings (score.ts), print a markdown table, write bench/.work/results.json and
 *    the `### Scan` section of docs/benchmarks.md.
 * 5. Unless --quick (or --no-adversarial): Keywarden and Gitleaks on the adversarial inputs
 *    (adversarial.ts), the `#### Adversarial inputs` table of that section. `--adversarial-only`
 *    runs just this step.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusRoot, ensureCorpus, mb, type CorpusFile, type Manifest } from './corpus.js';
import { haveGnuTime, measure, median, type Measurement } from './measure.js';
import { parseOptions, USAGE, type BenchOptions, type ToolName } from './options.js';
import { createPrng } from './prng.js';
import { runAdversarial, type AdversarialResult } from './adversarial.js';
import {
  computeChecks,
  readAdversarialSection,
  renderAdversarial,
  renderDocsSection,
  renderMarkdown,
  writeAdversarialSection,
  writeDocsSection,
  type BenchResults,
  type ToolResult,
} from './report.js';
import { score } from './score.js';
import { loadDetectorTypes } from './secrets.js';
import { gitleaksTool, keywardenTool, resolveGitleaks, secretlintTool, type Tool, type ToolFinding } from './tools.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const log = (s: string): void => void process.stderr.write(`bench:scan: ${s}\n`);

/** secretlint with the profiler off first scans this share of the files; the whole corpus follows if that projects under the budget. */
const SAMPLE_FRACTION = 0.1;

interface Scope {
  root: string;
  files: CorpusFile[];
  bytes: number;
  fraction: number;
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), repoRoot);
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!haveGnuTime()) log('GNU time (/usr/bin/time) not found: peak memory falls back to polling /proc (install the Debian "time" package for exact numbers)');
  const tools = opts.buildOnly ? [] : createTools(opts);
  if (opts.adversarialOnly) {
    const adversarial = await adversarialStep(opts, tools);
    process.stdout.write(`${adversarial.markdown}\n`);
    if (opts.docs) {
      writeAdversarialSection(path.join(repoRoot, 'docs/benchmarks.md'), adversarial.markdown);
      log('wrote the #### Adversarial inputs table of docs/benchmarks.md');
    }
    return 0;
  }

  const dir = path.join(opts.workDir, 'scan', `s${opts.seed}-${opts.sizeMB}mb-${opts.secrets}`);
  const manifest = await ensureCorpus({ repoRoot, dir, seed: opts.seed, sizeMB: opts.sizeMB, secrets: opts.secrets }, { rebuild: opts.rebuild, log });
  // Credential types come from the detector registry as it is now, not as it was at build time.
  const types = await loadDetectorTypes(repoRoot);
  for (const p of manifest.plants) p.type = types.get(p.detectorId) ?? p.type;
  const full: Scope = { root: corpusRoot({ repoRoot, dir, seed: opts.seed, sizeMB: opts.sizeMB, secrets: opts.secrets }), files: manifest.files, bytes: manifest.bytes, fraction: 1 };
  if (opts.buildOnly) {
    process.stdout.write(
      `${path.relative(repoRoot, full.root)}: ${mb(full.bytes)} MB, ${full.files.length} files, ${manifest.plants.length} planted secrets of ${manifest.kinds.length} kinds; manifest ${path.relative(repoRoot, path.join(dir, 'manifest.json'))}\n`,
    );
    return 0;
  }
  const outDir = path.join(dir, 'out');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const loadAverage = os.loadavg();

  log(`warming the page cache (${mb(full.bytes)} MB)`);
  for (const f of full.files) readFileSync(path.join(full.root, f.file));
  const warm = makeSample(dir, full, 'warmup', 0.005, opts.seed);
  // The warm-up scans a handful of files, so its time is close to the tool's start-up cost.
  const startup = new Map<ToolName, number>();
  for (const t of tools) {
    log(`warm-up: ${t.label} on ${warm.files.length} files`);
    startup.set(t.name, (await runTool(t, warm, outDir, 'warmup')).m.wallSeconds);
  }

  const results: ToolResult[] = [];
  const isSecretlint = (t: Tool): boolean => t.name === 'secretlint' || t.name === 'secretlint-noprof';
  const timed = tools.filter((t) => !isSecretlint(t));
  const runs = new Map<ToolName, ToolRun[]>();
  for (let r = 1; r <= opts.runs; r++) {
    for (const t of timed) {
      log(`run ${r}/${opts.runs}: ${t.label} on ${mb(full.bytes)} MB`);
      const res = await runTool(t, full, outDir, `run${r}`);
      log(`  ${res.m.wallSeconds.toFixed(2)} s, ${(full.bytes / 1e6 / res.m.wallSeconds).toFixed(1)} MB/s, ${res.m.peakRssMB.toFixed(0)} MB RSS, ${res.findings.length} findings`);
      if (t.name === 'keywarden' && res.stderrTail) log(`  keywarden says: ${res.stderrTail}`);
      const list = runs.get(t.name) ?? [];
      list.push(res);
      runs.set(t.name, list);
    }
  }
  for (const t of timed) results.push(summarize(t, full, manifest, runs.get(t.name)!));

  // secretlint runs once: it is far slower, and as shipped its time grows with the square of
  // the number of files (secretlint#1633), so it scans a fixed sample; the profiler-off variant
  // scans everything when a pilot says it fits the budget.
  for (const t of tools.filter(isSecretlint)) {
    const sample = makeSample(dir, full, 'secretlint', t.name === 'secretlint' ? opts.secretlintSample : SAMPLE_FRACTION, opts.seed);
    log(`${t.label} on ${sample.files.length} files (${mb(sample.bytes)} MB, a ${+(sample.fraction * 100).toFixed(1)}% sample)`);
    let res = await runTool(t, sample, outDir, 'sample');
    logRun(res, sample);
    let scope = sample;
    if (t.name === 'secretlint-noprof') {
      // Its time is linear in the input, so the sample (less the start-up cost) projects the whole.
      const start = Math.min(startup.get(t.name) ?? 0, 0.9 * res.m.wallSeconds);
      const projected = start + ((res.m.wallSeconds - start) * full.bytes) / sample.bytes;
      log(`  projected ${projected.toFixed(0)} s for the whole corpus (budget ${opts.secretlintBudget} s)`);
      if (projected <= opts.secretlintBudget) {
        log(`${t.label} on all ${full.files.length} files`);
        res = await runTool(t, full, outDir, 'run1');
        logRun(res, full);
        scope = full;
      }
    }
    const summary = summarize(t, scope, manifest, [res]);
    if (scope.fraction < 1) {
      summary.projection = { seconds: (res.m.wallSeconds * full.bytes) / scope.bytes, lowerBound: t.name === 'secretlint' };
    }
    results.push(summary);
  }

  const bench: BenchResults = {
    date: new Date().toISOString().slice(0, 10),
    command: `npm run bench:scan${opts.quick ? ' -- --quick' : ''}`,
    machine: {
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      cores: os.availableParallelism(),
      memoryGB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      loadAverage,
    },
    corpus: { bytes: manifest.bytes, files: manifest.files.length, copies: manifest.copies, planted: manifest.plants.length, kinds: manifest.kinds.length, seed: manifest.seed, root: path.relative(repoRoot, full.root) },
    tools: results,
    checks: computeChecks(results),
  };
  const adversarial = opts.adversarial ? await adversarialStep(opts, tools) : undefined;
  const json = JSON.stringify({ ...bench, ...(adversarial ? { adversarial: adversarial.results } : {}) }, null, 2);
  writeFileSync(path.join(opts.workDir, 'results.json'), json);
  writeFileSync(path.join(dir, 'results.json'), json);
  process.stdout.write(`${renderMarkdown(bench)}\n${adversarial ? `${adversarial.markdown}\n` : ''}`);
  for (const t of results) {
    for (const f of t.score.fpRules.slice(0, 10)) log(`FP ${t.label} ${f.ruleId} ×${f.count}: ${f.examples.join('  ')}`);
  }
  log(`raw results: ${path.relative(repoRoot, path.join(opts.workDir, 'results.json'))}; reports: ${path.relative(repoRoot, outDir)}/`);
  if (opts.docs) {
    const docs = path.join(repoRoot, 'docs/benchmarks.md');
    // A run without the adversarial inputs keeps the table an earlier run wrote.
    const keep = adversarial ? adversarial.markdown : readAdversarialSection(docs);
    writeDocsSection(docs, renderDocsSection(bench));
    if (keep) writeAdversarialSection(docs, keep);
    log('wrote the ### Scan section of docs/benchmarks.md');
  }
  return 0;
}

async function adversarialStep(opts: BenchOptions, tools: Tool[]): Promise<{ results: AdversarialResult[]; markdown: string }> {
  if (!opts.tools.includes('keywarden')) throw new Error('the adversarial inputs need keywarden among --tools');
  const machine = `${os.availableParallelism()} × ${os.cpus()[0]?.model.trim() ?? 'unknown'}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')} at the start`;
  const results = await runAdversarial({
    repoRoot,
    workDir: opts.workDir,
    seed: opts.seed,
    scale: opts.quick ? 0.25 : 1,
    keywardenBin: opts.keywardenBin,
    gitleaks: tools.find((t) => t.name === 'gitleaks'),
    keywardenTool: (extra) => keywardenTool(repoRoot, opts.keywardenBin, [...opts.keywardenArgs, ...extra]),
    timeoutSeconds: opts.adversarialTimeout,
    log,
  });
  const gl = tools.find((t) => t.name === 'gitleaks');
  const kw = tools.find((t) => t.name === 'keywarden');
  const markdown = renderAdversarial(results, {
    date: new Date().toISOString().slice(0, 10),
    command: `npm run bench:scan -- --adversarial-only${opts.quick ? ' --quick' : ''}`,
    machine: `${machine}; ${[kw, gl].filter((t): t is Tool => t !== undefined).map((t) => `${t.label} ${t.version}`).join(', ')}`,
    timeoutSeconds: opts.adversarialTimeout,
  });
  return { results, markdown };
}

function createTools(opts: BenchOptions): Tool[] {
  return opts.tools.map((name) => {
    switch (name) {
      case 'keywarden':
        if (opts.keywardenBin === path.join(repoRoot, 'bin/keywarden.js') && !existsSync(path.join(repoRoot, 'dist/cli/main.js'))) {
          throw new Error('Keywarden is not built (dist/cli/main.js is missing): run `npm run build` first.');
        }
        if (!existsSync(opts.keywardenBin)) throw new Error(`--keywarden-bin: ${opts.keywardenBin} does not exist`);
        return keywardenTool(repoRoot, opts.keywardenBin, opts.keywardenArgs);
      case 'gitleaks':
        return gitleaksTool(repoRoot, resolveGitleaks(repoRoot, opts.workDir, opts.gitleaksBin, log));
      case 'secretlint':
        return secretlintTool(repoRoot, { profilerOff: false });
      case 'secretlint-noprof':
        return secretlintTool(repoRoot, { profilerOff: true });
    }
  });
}

function logRun(res: ToolRun, scope: Scope): void {
  log(`  ${res.m.wallSeconds.toFixed(1)} s, ${(scope.bytes / 1e6 / res.m.wallSeconds).toFixed(2)} MB/s, ${res.m.peakRssMB.toFixed(0)} MB RSS, ${res.findings.length} findings`);
}

interface ToolRun {
  m: Measurement;
  findings: ToolFinding[];
  /** The last line the tool wrote to stderr (Keywarden's summary: files, bytes, skipped). */
  stderrTail: string;
}

async function runTool(t: Tool, scope: Scope, outDir: string, tag: string): Promise<ToolRun> {
  const base = path.join(outDir, `${t.name}-${tag}`);
  const report = `${base}.report`;
  rmSync(report, { force: true });
  const c = t.command(scope.root, report);
  const m = await measure({ ...c, stdoutFile: `${base}.stdout`, stderrFile: `${base}.stderr` });
  if (!t.okExitCodes.includes(m.exitCode) || !existsSync(report)) {
    const err = existsSync(`${base}.stderr`) ? readFileSync(`${base}.stderr`, 'utf8').slice(0, 2000) : '';
    throw new Error(`${t.label} failed (exit ${m.exitCode}${existsSync(report) ? '' : ', no report'}): ${c.cmd} ${c.args.join(' ')}\n${err}`);
  }
  const tail = readFileSync(`${base}.stderr`, 'utf8').trim().split('\n').pop() ?? '';
  return { m, findings: t.parse(report, scope.root), stderrTail: tail.slice(0, 300) };
}

function summarize(t: Tool, scope: Scope, manifest: Manifest, runs: ToolRun[]): ToolResult {
  const counts = new Set(runs.map((r) => r.findings.length));
  if (counts.size > 1) log(`warning: ${t.label} reported different numbers of findings across runs: ${[...counts].join(', ')}`);
  const inScope = new Set(scope.files.map((f) => f.file));
  const plants = manifest.plants.filter((p) => inScope.has(p.file));
  const s = score(plants, runs[0]!.findings, scope.bytes);
  const found = new Set(s.foundIds);
  const wall = median(runs.map((r) => r.m.wallSeconds));
  const cpu = runs.every((r) => r.m.cpuSeconds !== null) ? median(runs.map((r) => r.m.cpuSeconds!)) : null;
  return {
    name: t.name,
    label: t.label,
    version: t.version,
    scope: { files: scope.files.length, bytes: scope.bytes, fraction: scope.fraction, planted: plants.length },
    runs: runs.map((r) => r.m),
    wallSeconds: wall,
    mbPerSecond: scope.bytes / 1e6 / wall,
    peakRssMB: Math.max(...runs.map((r) => r.m.peakRssMB)),
    cpuSeconds: cpu,
    score: s,
    stderrTail: runs[0]!.stderrTail,
    missed: plants.filter((p) => !found.has(p.id)).map((p) => ({ id: p.id, detectorId: p.detectorId, place: `${p.file}:${p.startLine}` })),
  };
}

/**
 * A fixed random share of the corpus files, as hard links under `samples/<name>/` with the same
 * relative paths (so findings score against the same manifest).
 */
function makeSample(dir: string, full: Scope, name: string, fraction: number, seed: string): Scope {
  const root = path.join(dir, 'samples', `${name}-${fraction}`);
  rmSync(root, { recursive: true, force: true });
  const rng = createPrng(seed, 'sample', name, fraction);
  const files = full.files.filter(() => rng.next() < fraction);
  for (const f of files) {
    const to = path.join(root, f.file);
    mkdirSync(path.dirname(to), { recursive: true });
    linkSync(path.join(full.root, f.file), to);
  }
  // Its own (empty) git repository: bench/.work/ is git-ignored, and a scanner that honours the
  // enclosing repository's .gitignore would otherwise see no files at all.
  execFileSync('git', ['init', '-q', root], { stdio: 'ignore' });
  return { root, files, bytes: files.reduce((a, f) => a + f.bytes, 0), fraction };
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    log(e instanceof Error ? e.message : String(e));
    process.exitCode = 2;
  },
);
