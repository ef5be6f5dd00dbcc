/**
 * `npm run bench:check [-- --runs 3] [--checkov-runs 3] [--no-docs]`
 *
 * Keywarden's `check` against Checkov on the same corpus, in one run (issue 12, "Measured against
 * a peer"):
 *
 * 1. writes the corpus (corpus.ts) to `bench/.work/check/corpus/`, its manifest beside it, and
 *    `.github/keywarden.yml` (`extends: [keywarden:aws-kms-baseline]`) at its root;
 * 2. runs `node bin/keywarden.js check CORPUS --format json` once with an empty policy cache (the
 *    first run builds the policy) and `--runs` times warm, and Checkov
 *    (`checkov -d CORPUS --framework terraform terraform_json cloudformation -o json --compact --quiet`, its
 *    KMS checks only) `--checkov-runs` times; the median wall time of each;
 * 3. maps each tool's findings to (case, key, kind) and scores them against the manifest: per kind,
 *    what was expected, what each tool found, and what each reported that was not expected;
 * 4. prints a markdown report and writes the `### Configuration checks` section of
 *    docs/benchmarks.md (not with `--no-docs`), and `bench/.work/check/results.json`.
 *
 * Needs `npm run build` (bin/keywarden.js runs dist/) and Checkov (`scripts/setup-tools --only checkov`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_WORK_DIR, isCompliant, VIOLATION_KINDS, writeCheckCorpus, type Manifest, type ViolationKind } from './corpus.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const argValue = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a whole number ≥ 1`);
  return v;
};
const RUNS = argValue('runs', 3);
const CHECKOV_RUNS = argValue('checkov-runs', 3);
const DOCS = !process.argv.includes('--no-docs');
const log = (s: string): void => void process.stderr.write(`bench:check: ${s}\n`);

/**
 * Checkov's checks that judge KMS keys (grep of its checks folders for aws_kms_key / AWS::KMS::Key):
 * the two that map to a kind are scored, the other two are counted beside. CKV_AWS_109/111/356 and
 * their kin judge `aws_iam_policy_document` as an IAM identity policy (a key policy's `Resource: "*"`,
 * which means "this key", fails them), so they are not KMS checks and are not run.
 */
const CHECKOV_CHECKS: Record<string, { kind: ViolationKind | null; what: string }> = {
  CKV_AWS_7: { kind: 'rotation-off', what: 'rotation for customer created CMKs is enabled (Terraform, CloudFormation)' },
  CKV_AWS_33: { kind: 'wildcard-principal', what: 'KMS key policy does not contain wildcard (*) principal (Terraform, CloudFormation)' },
  CKV_AWS_227: { kind: null, what: 'KMS key is enabled (Terraform)' },
  CKV2_AWS_64: { kind: null, what: 'KMS key policy is defined (Terraform)' },
};

const KEYWARDEN_RULES: [RegExp, ViolationKind][] = [
  [/\/rotation\/automatic$/, 'rotation-off'],
  [/\/rotation\/period$/, 'rotation-period'],
  [/\/destroy\/pending-window$/, 'deletion-window'],
  [/\/spec\/min-size$/, 'rsa-size'],
  [/\/access\/forbid\/wildcard-principal$/, 'wildcard-principal'],
  [/\/access\/forbid\/operation$/, 'kms-star'],
  [/\/access\/separate-duties$/, 'separation-of-duties'],
];

type ToolName = 'keywarden' | 'checkov';

interface Finding {
  tool: ToolName;
  /** The rule or check id. */
  id: string;
  kind: ViolationKind | null;
  case: string;
  resource: string;
  file: string;
  line: number | undefined;
}

interface Timed {
  seconds: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({ seconds, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** `module.kms.aws_kms_key.this["a"]` → `aws_kms_key.this`; Checkov's `AWS::KMS::Key.Key` → `Key`. */
function normaliseResource(r: string): string {
  let s = r.replace(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+\./, '');
  s = s.replace(/\[[^\]]*\]/g, '');
  while (/^module\.[^.]+\./.test(s)) s = s.replace(/^module\.[^.]+\./, '');
  return s;
}

/**
 * The case is the finding's first path segment; the resource is matched to the case's keys, and a
 * finding on another resource of a one-key case (an `aws_kms_key_policy`, a policy document) is
 * that key's.
 */
function place(manifest: Manifest, file: string, resource: string): { case: string; resource: string } {
  const rel = file.replace(/^\/+/, '');
  const name = rel.split('/')[0] ?? rel;
  const c = manifest.cases[name];
  const r = normaliseResource(resource);
  if (!c) return { case: name, resource: r };
  const keys = [...new Set(c.expected.map((e) => e.resource))];
  if (keys.includes(r)) return { case: name, resource: r };
  if (keys.length === 1) return { case: name, resource: keys[0]! };
  return { case: name, resource: r };
}

interface KeywardenReport {
  violations: { rule: string; subject: { id: string; file?: string; line?: number } }[];
  problems: { file: string; line: number; message: string; code: string }[];
  summary: { keys: number; unknown: Record<string, number> };
}

function keywardenFindings(manifest: Manifest, report: KeywardenReport): Finding[] {
  return report.violations.map((v) => {
    const kind = KEYWARDEN_RULES.find(([re]) => re.test(v.rule))?.[1] ?? null;
    const file = v.subject.file ?? '';
    return { tool: 'keywarden', id: v.rule, kind, ...place(manifest, file, v.subject.id), file, line: v.subject.line };
  });
}

interface CheckovFailed {
  check_id: string;
  file_path: string;
  resource: string;
  file_line_range?: [number, number];
}

function checkovFindings(manifest: Manifest, stdout: string): { findings: Finding[]; summaries: { type: string; summary: Record<string, unknown> }[] } {
  const parsed: unknown = JSON.parse(stdout);
  const reports = (Array.isArray(parsed) ? parsed : [parsed]) as { check_type: string; results: { failed_checks?: CheckovFailed[] }; summary: Record<string, unknown> }[];
  const findings: Finding[] = [];
  for (const r of reports) {
    for (const f of r.results.failed_checks ?? []) {
      const kind = CHECKOV_CHECKS[f.check_id]?.kind ?? null;
      findings.push({ tool: 'checkov', id: f.check_id, kind, ...place(manifest, f.file_path, f.resource), file: f.file_path.replace(/^\/+/, ''), line: f.file_line_range?.[0] });
    }
  }
  return { findings, summaries: reports.map((r) => ({ type: r.check_type, summary: r.summary })) };
}

const keyOf = (c: string, r: string, k: string): string => `${c}\0${r}\0${k}`;

interface ToolScore {
  /** Per kind: expected entries the tool reported. */
  found: Record<ViolationKind, number>;
  /** Per kind: reported, not expected, on a compliant case / on a case with other problems. */
  falseOnCompliant: Record<ViolationKind, number>;
  falseOnOthers: Record<ViolationKind, number>;
  missed: { case: string; resource: string; kind: ViolationKind; note?: string }[];
  unexpected: { case: string; resource: string; kind: ViolationKind; compliant: boolean; id: string; file: string; line: number | undefined; note?: string }[];
  /** Findings of checks or rules that map to no kind, by id. */
  other: Record<string, number>;
}

function score(manifest: Manifest, findings: Finding[]): ToolScore {
  const zero = (): Record<ViolationKind, number> => Object.fromEntries(VIOLATION_KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>;
  const s: ToolScore = { found: zero(), falseOnCompliant: zero(), falseOnOthers: zero(), missed: [], unexpected: [], other: {} };
  const reported = new Map<string, Finding>();
  for (const f of findings) {
    if (f.kind === null) {
      s.other[f.id] = (s.other[f.id] ?? 0) + 1;
      continue;
    }
    const k = keyOf(f.case, f.resource, f.kind);
    if (!reported.has(k)) reported.set(k, f);
  }
  const expected = new Set<string>();
  for (const [name, c] of Object.entries(manifest.cases)) {
    for (const e of c.expected) {
      if (e.kind === 'none') continue;
      const k = keyOf(name, e.resource, e.kind);
      expected.add(k);
      if (reported.has(k)) s.found[e.kind]++;
      else s.missed.push({ case: name, resource: e.resource, kind: e.kind, ...(c.note ? { note: c.note } : {}) });
    }
  }
  for (const [k, f] of reported) {
    if (expected.has(k) || f.kind === null) continue;
    const c = manifest.cases[f.case];
    const compliant = c ? isCompliant(c) : false;
    (compliant ? s.falseOnCompliant : s.falseOnOthers)[f.kind]++;
    s.unexpected.push({ case: f.case, resource: f.resource, kind: f.kind, compliant, id: f.id, file: f.file, line: f.line, ...(c?.note ? { note: c.note } : {}) });
  }
  return s;
}

// ---------------------------------------------------------------------------------------------

interface Results {
  date: string;
  command: string;
  machine: string;
  corpus: { cases: number; compliant: number; keys: number; byFormat: Record<string, number>; files: number; expected: Record<ViolationKind, number> };
  keywarden: { version: string; coldSeconds: number; runs: number[]; medianSeconds: number; score: ToolScore; unknown: Record<string, number>; problems: number };
  checkov: { version: string; runs: number[]; medianSeconds: number; score: ToolScore; summaries: { type: string; summary: Record<string, unknown> }[] };
}

const secs = (s: number): string => (s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`);
const mark = (pass: boolean): string => (pass ? '✅' : '❌');

function render(r: Results): string {
  const kw = r.keywarden.score;
  const ck = r.checkov.score;
  const checkovSees = (kind: ViolationKind): string | undefined => Object.entries(CHECKOV_CHECKS).find(([, c]) => c.kind === kind)?.[0];
  const cell = (found: number, expected: number): string => (expected === 0 ? '–' : found === expected ? `${found}/${expected}` : `**${found}/${expected}**`);
  const fp = (a: number, b: number): string => (a === 0 && b === 0 ? '0' : `**${a}** / ${b}`);
  const sum = (x: Record<ViolationKind, number>): number => VIOLATION_KINDS.reduce((n, k) => n + x[k], 0);
  const expectedTotal = sum(r.corpus.expected);
  const out: string[] = [];
  const f = r.corpus.byFormat;
  out.push(
    `Corpus (\`bench/check/corpus.ts\`): ${r.corpus.cases} cases, one folder each — ${f.terraform ?? 0} Terraform, ${f['terraform-json'] ?? 0} Terraform JSON (CDKTF), ` +
      `${f['cloudformation-yaml'] ?? 0} CloudFormation YAML, ${f['cloudformation-json'] ?? 0} CloudFormation JSON (CDK synth output among them) — declaring ${r.corpus.keys} KMS keys; ` +
      `${r.corpus.compliant} cases are compliant, the others hold ${expectedTotal} expected problems. Each case's expectations are written by hand from AWS's documented semantics ` +
      `(defaults, variable and parameter defaults, tfvars, module arguments) and the AWS KMS baseline as issue 12 states it, not from either tool's output. ` +
      `Keywarden judges with \`extends: [keywarden:aws-kms-baseline]\`; Checkov ${r.checkov.version} runs its checks that judge KMS keys (${Object.keys(CHECKOV_CHECKS).map((c) => `\`${c}\``).join(', ')}) with \`--framework terraform terraform_json cloudformation\` (\`terraform_json\` reads the CDKTF \`.tf.json\` cases).`,
    '',
    `\`${r.command}\` on ${r.machine}, ${r.date}.`,
    '',
    '| kind | expected | Keywarden | Checkov | Keywarden unexpected (compliant cases / others) | Checkov unexpected (compliant / others) |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const k of VIOLATION_KINDS) {
    const e = r.corpus.expected[k];
    const check = checkovSees(k);
    out.push(
      `| ${k} | ${e} | ${cell(kw.found[k], e)} | ${check ? `${cell(ck.found[k], e)} (\`${check}\`)` : 'no check'} | ${fp(kw.falseOnCompliant[k], kw.falseOnOthers[k])} | ${check ? fp(ck.falseOnCompliant[k], ck.falseOnOthers[k]) : '–'} |`,
    );
  }
  out.push(
    `| **all** | ${expectedTotal} | ${cell(sum(kw.found), expectedTotal)} | ${cell(sum(ck.found), expectedTotal)} | ${fp(sum(kw.falseOnCompliant), sum(kw.falseOnOthers))} | ${fp(sum(ck.falseOnCompliant), sum(ck.falseOnOthers))} |`,
    '',
  );
  const checkovOnly = countCheckovOnly(r);
  const ratioWarm = r.checkov.medianSeconds / r.keywarden.medianSeconds;
  const ratioCold = r.checkov.medianSeconds / r.keywarden.coldSeconds;
  out.push(
    '| wall time, whole corpus | Keywarden | Checkov | Checkov ÷ Keywarden |',
    '|---|---:|---:|---:|',
    `| median of ${r.keywarden.runs.length} / ${r.checkov.runs.length} runs (Keywarden's policy cache warm, as after a first run) | ${secs(r.keywarden.medianSeconds)} | ${secs(r.checkov.medianSeconds)} | ${ratioWarm.toFixed(1)}× |`,
    `| Keywarden's first run (empty policy cache: builds the policy) | ${secs(r.keywarden.coldSeconds)} | – | ${ratioCold.toFixed(1)}× |`,
    '',
    '| target (issue 12) | wanted | result | |',
    '|---|---|---:|:-:|',
    `| every problem Checkov finds, Keywarden finds | 0 found by Checkov alone | ${checkovOnly} | ${mark(checkovOnly === 0)} |`,
    `| … plus the ones Checkov cannot see | all ${expectedTotal} | ${sum(kw.found)}/${expectedTotal} (Checkov ${sum(ck.found)}) | ${mark(sum(kw.found) === expectedTotal)} |`,
    `| no false positive on the compliant cases | 0 | ${sum(kw.falseOnCompliant)} | ${mark(sum(kw.falseOnCompliant) === 0)} |`,
    `| at least 10× faster than Checkov | ≥ 10× | ${ratioWarm.toFixed(1)}× warm, ${ratioCold.toFixed(1)}× first run | ${mark(ratioWarm >= 10)} |`,
    '',
  );
  const line = (x: { case: string; resource: string; kind: string; note?: string }): string => `\`${x.case}\` (${x.resource}: ${x.kind})`;
  if (kw.missed.length) out.push(`Keywarden missed (${kw.missed.length}): ${kw.missed.map(line).join(', ')}.`, '');
  if (kw.unexpected.length) out.push(`Keywarden reported, not expected (${kw.unexpected.length}): ${kw.unexpected.map((u) => `${line(u)}${u.compliant ? ' on a compliant case' : ''}`).join(', ')}.`, '');
  const other = Object.entries(ck.other);
  const ckMissedChecked = ck.missed.filter((m) => checkovSees(m.kind));
  out.push(
    `Checkov, within the two kinds it checks, missed ${ckMissedChecked.length}: ${ckMissedChecked.map(line).join(', ') || 'none'}. ` +
      "From its source: in Terraform `CKV_AWS_33` reads only an `aws_kms_key`'s own `policy` argument once it is JSON (not an `aws_kms_key_policy` resource, " +
      'not a data source) and skips every statement with a `Condition`; in CloudFormation it wants `Statement` as a list. ' +
      "`CKV_AWS_7` asks every key to rotate unless Terraform's deprecated `customer_master_key_spec` (CloudFormation: `KeySpec`) says it is asymmetric; " +
      'it reads `key_spec` not at all, and asks HMAC keys to rotate, which AWS cannot do. ' +
      `Its unexpected findings: ${ck.unexpected.length ? ck.unexpected.map((u) => `${line(u)}${u.compliant ? ' on a compliant case' : ''}`).join(', ') : 'none'}.`,
    '',
  );
  if (other.length) {
    out.push(
      `Not scored: Checkov's other KMS checks failed ${other.map(([id, n]) => `\`${id}\` ${n}×`).join(', ')} (${other.map(([id]) => `${id}: ${CHECKOV_CHECKS[id]?.what ?? id}`).join('; ')}) — ` +
        "a key without a written policy gets AWS's default key policy, which the baseline accepts.",
      '',
    );
  }
  const unknown = Object.entries(r.keywarden.unknown);
  if (unknown.length) out.push(`Keywarden left unjudged, as unresolved values: ${unknown.map(([k, n]) => `${k} ${n}×`).join(', ')}.`, '');
  return out.join('\n');
}

/** Expected problems Checkov reported and Keywarden did not. */
function countCheckovOnly(r: Results): number {
  const kwMissed = new Set(r.keywarden.score.missed.map((m) => keyOf(m.case, m.resource, m.kind)));
  const ckMissed = new Set(r.checkov.score.missed.map((m) => keyOf(m.case, m.resource, m.kind)));
  let n = 0;
  for (const k of kwMissed) if (!ckMissed.has(k)) n++;
  return n;
}

const START = '<!-- bench:check:start — written by `npm run bench:check`; edits between the markers are overwritten -->';
const END = '<!-- bench:check:end -->';

/** Replaces the text between the markers, or adds the section at the end; other sections are left as they are. */
function writeSection(file: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const blockText = `${START}\n\n${body.trimEnd()}\n\n${END}`;
  const s = text.indexOf('<!-- bench:check:start');
  const e = text.indexOf(END);
  const next = s >= 0 && e > s ? `${text.slice(0, s)}${blockText}${text.slice(e + END.length)}` : `${text.trimEnd()}\n\n### Configuration checks\n\n${blockText}\n`;
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}

function findCheckov(): string {
  for (const p of [path.join(repoRoot, '.tools/bin/checkov'), path.join(repoRoot, '.tools/checkov-venv/bin/checkov')]) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v checkov'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  // Installed on first use, as the setup script installs every real part (idempotent).
  const setup = spawnSync(path.join(repoRoot, 'scripts/setup-tools'), ['--only', 'checkov'], { stdio: 'inherit' });
  if (setup.status === 0 && existsSync(path.join(repoRoot, '.tools/bin/checkov'))) return path.join(repoRoot, '.tools/bin/checkov');
  throw new Error('Checkov is not installed and scripts/setup-tools --only checkov failed (it goes into .tools/checkov-venv from PyPI).');
}

async function main(): Promise<void> {
  const bin = path.join(repoRoot, 'bin/keywarden.js');
  if (!existsSync(path.join(repoRoot, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (bin/keywarden.js runs dist/).');
  const checkov = findCheckov();
  const work = DEFAULT_WORK_DIR;
  const corpus = path.join(work, 'corpus');
  const manifest = writeCheckCorpus({ corpusDir: corpus, manifestFile: path.join(work, 'manifest.json') });
  const cases = Object.values(manifest.cases);
  log(`wrote ${cases.length} cases (${cases.filter(isCompliant).length} compliant) to ${path.relative(repoRoot, corpus)}`);

  // Keywarden: first run with an empty policy cache, then warm runs.
  const cacheDir = path.join(work, 'policy-cache');
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  const kwEnv = { ...process.env, KEYWARDEN_CACHE_DIR: cacheDir };
  const kwArgs = [bin, 'check', corpus, '--format', 'json'];
  const cold = await run(process.execPath, kwArgs, kwEnv);
  if (cold.code !== 0 && cold.code !== 1) throw new Error(`keywarden check exited ${cold.code}: ${cold.stderr}`);
  log(`keywarden first run (policy build): ${secs(cold.seconds)}`);
  const kwRuns: Timed[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = await run(process.execPath, kwArgs, kwEnv);
    if (t.code !== 0 && t.code !== 1) throw new Error(`keywarden check exited ${t.code}: ${t.stderr}`);
    if (t.stdout !== cold.stdout) log('warning: a warm run reported differently from the first one');
    kwRuns.push(t);
    log(`keywarden run ${i + 1}/${RUNS}: ${secs(t.seconds)}`);
  }
  const kwReport = JSON.parse(cold.stdout) as KeywardenReport;
  const kwVersion = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

  // Checkov: its KMS checks only; no network (mapping and guideline downloads off).
  const ckEnv: NodeJS.ProcessEnv = { ...process.env, BC_SKIP_MAPPING: 'TRUE' };
  const ckArgs = ['-d', corpus, '--framework', 'terraform', 'terraform_json', 'cloudformation', '-o', 'json', '--compact', '--quiet', '--skip-download', '--check', Object.keys(CHECKOV_CHECKS).join(',')];
  const ckVersion = (await run(checkov, ['--version'], ckEnv)).stdout.trim();
  const ckRuns: Timed[] = [];
  for (let i = 0; i < CHECKOV_RUNS; i++) {
    const t = await run(checkov, ckArgs, ckEnv);
    if (t.code !== 0 && t.code !== 1) throw new Error(`checkov exited ${t.code}: ${t.stderr.slice(-2000)}`);
    ckRuns.push(t);
    log(`checkov ${ckVersion} run ${i + 1}/${CHECKOV_RUNS}: ${secs(t.seconds)}`);
  }
  const ck = checkovFindings(manifest, ckRuns[0]!.stdout);

  const expected = Object.fromEntries(VIOLATION_KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>;
  const byFormat: Record<string, number> = {};
  for (const c of cases) {
    byFormat[c.format] = (byFormat[c.format] ?? 0) + 1;
    for (const e of c.expected) if (e.kind !== 'none') expected[e.kind]++;
  }
  const cpus = os.cpus();
  const results: Results = {
    date: new Date().toISOString().slice(0, 10),
    command: `npm run build && npm run bench:check${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the end (shared machine)`,
    corpus: {
      cases: cases.length,
      compliant: cases.filter(isCompliant).length,
      keys: new Set(cases.flatMap((c, i) => c.expected.map((e) => `${i}\0${e.resource}`))).size,
      byFormat,
      files: cases.reduce((n, c) => n + c.files.length, 0),
      expected,
    },
    keywarden: {
      version: kwVersion,
      coldSeconds: cold.seconds,
      runs: kwRuns.map((t) => t.seconds),
      medianSeconds: median(kwRuns.map((t) => t.seconds)),
      score: score(manifest, keywardenFindings(manifest, kwReport)),
      unknown: kwReport.summary.unknown,
      problems: kwReport.problems.length,
    },
    checkov: { version: ckVersion, runs: ckRuns.map((t) => t.seconds), medianSeconds: median(ckRuns.map((t) => t.seconds)), score: score(manifest, ck.findings), summaries: ck.summaries },
  };
  for (const p of kwReport.problems) log(`keywarden problem: ${p.file}:${p.line}: ${p.message}`);
  for (const s of ck.summaries) if (Number(s.summary.parsing_errors) > 0) log(`checkov ${s.type}: ${String(s.summary.parsing_errors)} parsing errors`);
  writeFileSync(path.join(work, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const markdown = render(results);
  process.stdout.write(`${markdown}\n`);
  if (DOCS) {
    writeSection(path.join(repoRoot, 'docs', 'benchmarks.md'), markdown);
    log('wrote the ### Configuration checks section of docs/benchmarks.md');
  }
}

await main();
