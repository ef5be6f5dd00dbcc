/**
 * `npm run bench:scan-real`: Keywarden and Gitleaks side by side on the realistic corpus, per
 * credential type. Generates the corpus when it is missing or stale, runs each tool once (timed),
 * matches findings to the manifest by file and line, and writes report.md and misses.txt (the
 * planted secrets Keywarden missed: file:line:type, never a secret) under bench/.work/realistic/.
 *
 *   npm run bench:scan-real [-- --seed <s>] [--regenerate]
 *   npm run bench:scan-real2 [-- --seed <s>] [--regenerate]   (= --corpus 2: ../realistic2/, outputs
 *                                                               under bench/.work/realistic2/)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as corpus1 from './corpus.js';
import type { Manifest, Planted } from './corpus.js';
import * as corpus2 from '../realistic2/corpus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
/** Corpus 1 (./) is the default; `--corpus 2` is the independently written ../realistic2/. */
const corpusNo = arg('--corpus') ?? '1';
if (corpusNo !== '1' && corpusNo !== '2') throw new Error(`--corpus takes 1 or 2, not ${corpusNo}`);
const CORPUS = corpusNo === '2'
  ? { mod: corpus2, sources: ['../realistic2/corpus.ts', '../realistic2/secrets.ts', '../prng.ts'], work: 'bench/.work/realistic2', seed: 'keywarden-realistic-2', title: 'Realistic corpus 2' }
  : { mod: corpus1, sources: ['corpus.ts', 'secrets.ts', '../prng.ts'], work: 'bench/.work/realistic', seed: 'keywarden-realistic-1', title: 'Realistic corpus' };
const workDir = path.join(repoRoot, CORPUS.work);
const corpusDir = path.join(workDir, 'repo');
const manifestFile = path.join(workDir, 'manifest.json');
const stampFile = path.join(workDir, 'stamp.json');

interface Finding {
  file: string;
  startLine: number;
  endLine: number;
  startColumn?: number;
  ruleId: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A hash of the generator's sources: a changed generator means a stale corpus. */
function generatorStamp(seed: string): string {
  const h = createHash('sha256').update(`${CORPUS.mod.CORPUS_VERSION}\0${seed}`);
  for (const f of CORPUS.sources) h.update(readFileSync(path.join(here, f)));
  return h.digest('hex');
}

function ensureCorpus(seed: string, force: boolean): Manifest {
  const stamp = generatorStamp(seed);
  if (!force && existsSync(stampFile) && existsSync(manifestFile) && existsSync(corpusDir)) {
    const old = JSON.parse(readFileSync(stampFile, 'utf8')) as { stamp?: string };
    if (old.stamp === stamp) return JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  }
  mkdirSync(workDir, { recursive: true });
  const { manifest, bytes } = CORPUS.mod.generateCorpus(corpusDir, seed);
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 1) + '\n');
  writeFileSync(stampFile, JSON.stringify({ stamp, bytes }) + '\n');
  console.log(`generated ${manifest.files} files (${(bytes / 1024).toFixed(0)} KiB), ${manifest.secrets.length} secrets, ${manifest.negatives.length} hard negatives`);
  return manifest;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('GITLEAKS_') || k.startsWith('KEYWARDEN_')) delete env[k];
  env['NO_COLOR'] = '1';
  return env;
}

const rel = (root: string, f: string): string => path.relative(root, path.resolve(root, f)).split(path.sep).join('/');

interface ToolRun {
  name: string;
  version: string;
  seconds: number;
  findings: Finding[];
}

function timed(cmd: string, args: string[], ok: number[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: repoRoot, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error || !ok.includes(r.status ?? -1)) throw new Error(`${path.basename(cmd)} ${args[0] ?? ''} failed (exit ${r.status}): ${String(r.stderr ?? '').slice(0, 500)}`);
  return seconds;
}

function runKeywarden(): ToolRun {
  const bin = path.join(repoRoot, 'bin/keywarden.js');
  const report = path.join(workDir, 'keywarden.json');
  const version = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim();
  // --no-gitignore: the corpus lies under bench/.work/, which the repository ignores.
  const seconds = timed(process.execPath, [bin, 'scan', corpusDir, '--format', 'json', '--no-progress', '--no-gitignore', '--no-config', '-o', report], [0, 1]);
  const list = JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown>[];
  const findings = list.map((f) => ({
    file: rel(corpusDir, String(f['file'])),
    startLine: Number(f['startLine']),
    endLine: Number(f['endLine'] ?? f['startLine']),
    ...(typeof f['startColumn'] === 'number' ? { startColumn: f['startColumn'] } : {}),
    ruleId: String(f['ruleId']),
  }));
  return { name: 'Keywarden', version, seconds, findings };
}

function runGitleaks(): ToolRun {
  const bin = arg('--gitleaks-bin') ?? path.join(repoRoot, '.tools/bin/gitleaks');
  const report = path.join(workDir, 'gitleaks.json');
  let version = execFileSync(bin, ['version'], { encoding: 'utf8' }).trim();
  try {
    // A `go install` build reports no version of its own; its module information has it.
    const info = execFileSync('go', ['version', '-m', bin], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    version = /\bmod\s+\S*gitleaks\S*\s+(v[\d.]+\S*)/.exec(info)?.[1] ?? version;
  } catch {
    // no Go toolchain: keep what the binary says
  }
  const seconds = timed(bin, ['dir', corpusDir, '--report-format', 'json', '--report-path', report, '--no-banner', '--exit-code', '0', '--log-level', 'error'], [0]);
  const list = (JSON.parse(readFileSync(report, 'utf8')) as Record<string, unknown>[] | null) ?? [];
  const findings = list.map((f) => ({
    file: rel(corpusDir, String(f['File'])),
    startLine: Number(f['StartLine']),
    endLine: Number(f['EndLine'] ?? f['StartLine']),
    ...(typeof f['StartColumn'] === 'number' ? { startColumn: f['StartColumn'] } : {}),
    ruleId: String(f['RuleID']),
  }));
  return { name: 'Gitleaks', version, seconds, findings };
}

interface Score {
  found: Set<Planted>;
  truePositives: number;
  falsePositives: Finding[];
  /** False positives on a hard-negative line, by category. */
  fpByCategory: Map<string, number>;
}

/**
 * A finding counts for every planted secret whose lines it touches; where several secrets share a
 * line (a minified bundle) and the finding has a column, only those whose column range it can be
 * in. A finding on no planted line is a false positive.
 */
function score(manifest: Manifest, findings: Finding[]): Score {
  const byFile = new Map<string, Planted[]>();
  for (const s of manifest.secrets) byFile.set(s.file, [...(byFile.get(s.file) ?? []), s]);
  const negAt = new Map(manifest.negatives.map((n) => [`${n.file}:${n.line}`, n.category]));
  const found = new Set<Planted>();
  const fps: Finding[] = [];
  const fpByCategory = new Map<string, number>();
  let tp = 0;
  for (const f of findings) {
    const planted = (byFile.get(f.file) ?? []).filter((s) => f.startLine <= s.endLine && f.endLine >= s.line);
    let hits = planted;
    if (planted.length > 1 && f.startColumn !== undefined && f.startLine === f.endLine) {
      const sorted = planted.slice().sort((a, b) => a.column - b.column);
      const col = f.startColumn;
      const narrowed = sorted.filter((s, i) => s.line !== f.startLine || (col >= s.column - 1 && col < (sorted[i + 1]?.column ?? Infinity)));
      if (narrowed.length > 0) hits = narrowed;
    }
    if (hits.length === 0) {
      fps.push(f);
      const cat = negAt.get(`${f.file}:${f.startLine}`) ?? 'other';
      fpByCategory.set(cat, (fpByCategory.get(cat) ?? 0) + 1);
      continue;
    }
    tp++;
    for (const s of hits) found.add(s);
  }
  return { found, truePositives: tp, falsePositives: fps, fpByCategory };
}

const pct = (n: number, d: number): string => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)}%`);

function report(manifest: Manifest, runs: ToolRun[], scores: Score[]): string {
  const types = [...new Set(manifest.secrets.map((s) => s.type))].sort();
  const out: string[] = [];
  out.push(`# ${CORPUS.title}: Keywarden vs Gitleaks`, '');
  out.push(`Corpus: ${manifest.files} files, ${manifest.formats.length} file kinds, ${manifest.secrets.length} planted secrets of ${types.length} types, ${manifest.negatives.length} hard-negative lines (seed \`${manifest.seed}\`).`, '');
  out.push('| tool | version | time | findings | recall | precision | F1 |', '|---|---|---:|---:|---:|---:|---:|');
  runs.forEach((r, i) => {
    const s = scores[i]!;
    const recall = s.found.size / manifest.secrets.length;
    const precision = r.findings.length === 0 ? 0 : s.truePositives / r.findings.length;
    const f1 = recall + precision === 0 ? 0 : (2 * recall * precision) / (recall + precision);
    out.push(`| ${r.name} | ${r.version} | ${r.seconds.toFixed(2)} s | ${r.findings.length} | ${pct(s.found.size, manifest.secrets.length)} | ${pct(s.truePositives, r.findings.length)} | ${(100 * f1).toFixed(1)} |`);
  });
  out.push('', '### Recall per credential type', '', `| type | planted | ${runs.map((r) => r.name).join(' | ')} |`, `|---|---:|${runs.map(() => '---:').join('|')}|`);
  for (const t of types) {
    const planted = manifest.secrets.filter((s) => s.type === t);
    const cells = scores.map((s) => {
      const n = planted.filter((p) => s.found.has(p)).length;
      return `${n}/${planted.length}${n < planted.length ? '' : ' ✓'}`;
    });
    out.push(`| ${t} | ${planted.length} | ${cells.join(' | ')} |`);
  }
  const cats = [...new Set([...manifest.negatives.map((n) => n.category), 'other'])].sort();
  out.push('', '### False positives by where they fell', '', '`other` is a line that is neither a planted secret nor a listed hard negative.', '', `| line kind | lines | ${runs.map((r) => r.name).join(' | ')} |`, `|---|---:|${runs.map(() => '---:').join('|')}|`);
  for (const c of cats) {
    const lines = c === 'other' ? '' : String(manifest.negatives.filter((n) => n.category === c).length);
    out.push(`| ${c} | ${lines} | ${scores.map((s) => s.fpByCategory.get(c) ?? 0).join(' | ')} |`);
  }
  out.push('', '### False positives by rule', '');
  runs.forEach((r, i) => {
    const byRule = new Map<string, number>();
    for (const f of scores[i]!.falsePositives) byRule.set(f.ruleId, (byRule.get(f.ruleId) ?? 0) + 1);
    const list = [...byRule].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    out.push(`- ${r.name}: ${list.length === 0 ? 'none' : list.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  });
  return out.join('\n') + '\n';
}

function main(): void {
  const seed = arg('--seed') ?? CORPUS.seed;
  const t0 = Date.now();
  const manifest = ensureCorpus(seed, process.argv.includes('--regenerate'));
  const runs = [runKeywarden(), runGitleaks()];
  const scores = runs.map((r) => score(manifest, r.findings));
  const md = report(manifest, runs, scores);
  writeFileSync(path.join(workDir, 'report.md'), md);
  const kw = scores[0]!;
  const misses = manifest.secrets.filter((s) => !kw.found.has(s)).map((s) => `${s.file}:${s.line}:${s.type}`);
  const fps = kw.falsePositives.map((f) => `${f.file}:${f.startLine}:${f.ruleId}`);
  writeFileSync(path.join(workDir, 'misses.txt'), misses.join('\n') + (misses.length ? '\n' : ''));
  writeFileSync(path.join(workDir, 'false-positives.txt'), fps.join('\n') + (fps.length ? '\n' : ''));
  console.log(md);
  console.log(`misses: ${path.relative(repoRoot, path.join(workDir, 'misses.txt'))} (${misses.length}); false positives: ${path.relative(repoRoot, path.join(workDir, 'false-positives.txt'))} (${fps.length}); ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
}

main();
