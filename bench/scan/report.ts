/** The benchmark's results as markdown, and the `### Scan` section of docs/benchmarks.md. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AdversarialResult, AdversarialRun } from './adversarial.js';
import type { Measurement } from './measure.js';
import type { ToolName } from './options.js';
import type { Score } from './score.js';

export interface ToolResult {
  name: ToolName;
  label: string;
  version: string;
  /** What was scanned: the whole corpus, or a sample of its files. */
  scope: { files: number; bytes: number; fraction: number; planted: number };
  runs: Measurement[];
  wallSeconds: number;
  mbPerSecond: number;
  peakRssMB: number;
  cpuSeconds: number | null;
  /**
   * For a sample: the wall time scaled linearly to the whole corpus; a lower bound when the
   * tool's time grows faster than linearly with the number of files.
   */
  projection?: { seconds: number; lowerBound: boolean };
  score: Score;
  missed: { id: number; detectorId: string; place: string }[];
  /** The tool's own last stderr line from the first run (Keywarden: files, bytes, skipped, time). */
  stderrTail: string;
}

export interface Check {
  what: string;
  target: string;
  result: string;
  pass: boolean | null;
}

export interface BenchResults {
  date: string;
  command: string;
  machine: { cpu: string; cores: number; memoryGB: number; os: string; node: string; loadAverage: number[] };
  corpus: { bytes: number; files: number; copies: number; planted: number; kinds: number; seed: string; root: string };
  tools: ToolResult[];
  checks: Check[];
}

const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const secs = (s: number): string => (s >= 100 ? `${num(s)} s` : `${s.toFixed(2)} s`);

export function computeChecks(tools: ToolResult[]): Check[] {
  const kw = tools.find((t) => t.name === 'keywarden');
  const gl = tools.find((t) => t.name === 'gitleaks');
  const sls = tools.filter((t) => t.name === 'secretlint' || t.name === 'secretlint-noprof');
  const checks: Check[] = [];
  if (!kw) return checks;
  // Wall-time ratio decides; the CPU-time ratio is shown beside it because the machine may be shared.
  const speed = (peer: ToolResult): { wall: number; text: string } => {
    const wall = kw.mbPerSecond / peer.mbPerSecond;
    const cpu =
      kw.cpuSeconds !== null && peer.cpuSeconds !== null && kw.cpuSeconds > 0
        ? peer.cpuSeconds / peer.scope.bytes / (kw.cpuSeconds / kw.scope.bytes)
        : null;
    return { wall, text: `${wall.toFixed(wall < 10 ? 2 : 1)}×${cpu === null ? '' : ` (CPU time: ${cpu.toFixed(cpu < 10 ? 2 : 1)}×)`}` };
  };
  if (gl) {
    const r = speed(gl);
    checks.push({ what: 'speed vs Gitleaks', target: '≥ 1× (aim 2×)', result: r.text, pass: r.wall >= 1 });
  }
  for (const sl of sls) {
    const r = speed(sl);
    checks.push({ what: `speed vs ${sl.label}`, target: '≥ 5×', result: r.text, pass: r.wall >= 5 });
  }
  checks.push({ what: 'Keywarden peak memory (RSS)', target: '< 300 MB', result: `${num(kw.peakRssMB)} MB`, pass: kw.peakRssMB < 300 });
  if (gl) {
    checks.push({
      what: 'recall vs Gitleaks',
      target: '≥ Gitleaks',
      result: `${pct(kw.score.recall)} vs ${pct(gl.score.recall)}`,
      pass: kw.score.recall >= gl.score.recall,
    });
    checks.push({
      what: 'false positives per 100 MB vs Gitleaks',
      target: '≤ Gitleaks',
      result: `${kw.score.falsePositivesPer100MB.toFixed(1)} vs ${gl.score.falsePositivesPer100MB.toFixed(1)}`,
      pass: kw.score.falsePositivesPer100MB <= gl.score.falsePositivesPer100MB,
    });
  }
  return checks;
}

function toolHeader(t: ToolResult): string {
  return `${t.label} ${t.version}${t.scope.fraction < 1 ? ` (${Math.round(t.scope.fraction * 100)}% sample†)` : ''}`;
}

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const t = r.tools;
  const row = (label: string, cells: string[]): string => `| ${label} | ${cells.join(' | ')} |`;
  out.push(
    `Corpus: ${num(r.corpus.bytes / 1e6, 1)} MB in ${num(r.corpus.files)} files (the project's node_modules text, ${r.corpus.copies} shuffled copies), ` +
      `${num(r.corpus.planted)} planted fake secrets of ${r.corpus.kinds} kinds, seed ${r.corpus.seed}.`,
    '',
    row('', t.map(toolHeader)),
    row('---', t.map(() => '---:')),
    row('scanned', t.map((x) => `${num(x.scope.bytes / 1e6, 1)} MB, ${num(x.scope.files)} files`)),
    row(
      'wall time',
      t.map((x) => `${secs(x.wallSeconds)}${x.runs.length > 1 ? ` (median of ${x.runs.length})` : ''}${x.projection ? `; ${x.projection.lowerBound ? '≥' : '≈'} ${secs(x.projection.seconds)} for all${x.projection.lowerBound ? '‡' : ''}` : ''}`),
    ),
    row('throughput', t.map((x) => `${x.mbPerSecond.toFixed(1)} MB/s`)),
    row('CPU time (user + sys)', t.map((x) => (x.cpuSeconds === null ? 'n/a' : secs(x.cpuSeconds)))),
    row('peak memory (RSS)', t.map((x) => `${num(x.peakRssMB)} MB`)),
    row('recall on planted secrets', t.map((x) => `${num(x.score.found)}/${num(x.score.planted)} (${pct(x.score.recall)})`)),
    row('… with the exact secret', t.map((x) => (x.name.startsWith('secretlint') ? 'n/a' : `${num(x.score.exact)} (${pct(x.score.planted ? x.score.exact / x.score.planted : 0)})`))),
    row('findings on unplanted text', t.map((x) => `${num(x.score.falsePositives)} (${x.score.falsePositivesPer100MB.toFixed(1)} per 100 MB)`)),
    '',
  );
  if (t.some((x) => x.scope.fraction < 1)) {
    out.push(
      '† Run on a fixed random sample of the corpus files, because it would take too long on all of them: throughput, memory, recall and false positives are measured on the sample, and the wall time for the whole corpus is scaled from it.',
      '',
    );
  }
  if (t.some((x) => x.name.startsWith('secretlint'))) {
    out.push(
      '‡ secretlint 11.7.1 records a performance mark per rule and file even without `--profile`, and its observer scans every earlier mark on each new one ' +
        '([secretlint#1633](https://github.com/secretlint/secretlint/issues/1633), fixed upstream by [#1673](https://github.com/secretlint/secretlint/pull/1673)), ' +
        'so its time grows with the square of the number of files and the scaled time is a lower bound. ' +
        '"secretlint, profiler off" is the same CLI and rules with that profiler made a no-op (`bench/scan/secretlint-profiler-off.mjs`, what the upstream fix does); its findings are identical, so Keywarden is also compared with a secretlint without that overhead.',
      '',
    );
  }
  if (r.checks.length) {
    out.push('| target | wanted | result | |', '|---|---|---:|:-:|');
    for (const c of r.checks) out.push(`| ${c.what} | ${c.target} | ${c.result} | ${c.pass === null ? '' : c.pass ? '✅' : '❌'} |`);
    out.push('');
  }
  out.push(...renderRecallByKind(r), ...renderFalsePositives(r), ...renderRecallByHost(r));
  return out.join('\n');
}

function cell(found: number, planted: number): string {
  if (planted === 0) return '–';
  return found === planted ? `${found}/${planted}` : `**${found}/${planted}**`;
}

/** The two secretlint variants find the same things; per-kind tables show the one that scanned more. */
function detailTools(tools: ToolResult[]): ToolResult[] {
  const stock = tools.find((x) => x.name === 'secretlint');
  const noprof = tools.find((x) => x.name === 'secretlint-noprof');
  if (!stock || !noprof) return tools;
  const drop = noprof.scope.bytes >= stock.scope.bytes ? stock : noprof;
  return tools.filter((x) => x !== drop);
}

function renderRecallByKind(r: BenchResults): string[] {
  const t = detailTools(r.tools);
  const ids = [...new Set(t.flatMap((x) => x.score.byKind.map((k) => k.detectorId)))].sort();
  const withRules = t.filter((x) => !x.name.startsWith('secretlint'));
  const out = [
    '#### Recall per kind of secret',
    '',
    'Found/planted per generator kind (named after the Keywarden detector that should find it); **bold** where a tool missed some. ' +
      'The rule columns list the rule ids whose findings overlapped the planted secrets.',
    '',
    `| kind (type) | ${t.map((x) => x.label + (x.scope.fraction < 1 ? '†' : '')).join(' | ')} | ${withRules.map((x) => `${x.label} rules`).join(' | ')} |`,
    `|---|${t.map(() => '---:').join('|')}|${withRules.map(() => '---').join('|')}|`,
  ];
  for (const id of ids) {
    const kinds = t.map((x) => x.score.byKind.find((k) => k.detectorId === id));
    const type = kinds.find((k) => k)?.type ?? id;
    const rules = withRules.map((x) => {
      const k = x.score.byKind.find((kk) => kk.detectorId === id);
      const names = k ? Object.keys(k.foundBy).sort() : [];
      return names.length ? names.join(', ') : '–';
    });
    out.push(`| ${id}${type !== id ? ` (${type})` : ''} | ${kinds.map((k) => (k ? cell(k.found, k.planted) : '–')).join(' | ')} | ${rules.join(' | ')} |`);
  }
  out.push('');
  for (const x of t) {
    const missed = x.score.byKind.filter((k) => k.found < k.planted);
    out.push(`- ${x.label} misses: ${missed.length ? missed.map((k) => `${k.detectorId} (${k.planted - k.found}/${k.planted})`).join(', ') : 'none'}`);
  }
  for (const x of withRules) {
    const inexact = x.score.byKind.filter((k) => k.exact < k.found);
    if (inexact.length) {
      out.push(`- ${x.label} found, but reported a different secret span: ${inexact.map((k) => `${k.detectorId} (${k.found - k.exact}/${k.found})`).join(', ')}`);
    }
  }
  out.push('');
  return out;
}

function renderFalsePositives(r: BenchResults): string[] {
  const out = ['#### Findings on unplanted text, per rule', ''];
  for (const x of r.tools) {
    const rules = x.score.fpRules;
    out.push(
      `- ${x.label}: ${rules.length ? rules.map((f) => `${f.ruleId} ${num(f.count)}`).join(', ') : 'none'}`,
    );
  }
  out.push('');
  return out;
}

function renderRecallByHost(r: BenchResults): string[] {
  const t = detailTools(r.tools);
  const hosts = [...new Set(t.flatMap((x) => Object.keys(x.score.byHost)))].sort();
  const out = ['#### Recall per host file', '', `| planted in | ${t.map((x) => x.label).join(' | ')} |`, `|---|${t.map(() => '---:').join('|')}|`];
  for (const h of hosts) out.push(`| ${h} | ${t.map((x) => { const v = x.score.byHost[h]; return v ? cell(v.found, v.planted) : '–'; }).join(' | ')} |`);
  out.push('');
  return out;
}

export function renderDocsSection(r: BenchResults): string {
  const m = r.machine;
  return [
    '### Scan',
    '',
    `Reproduce with \`${r.command}\` (builds the corpus under \`bench/.work/\` on first use; \`-- --quick\` for a 20 MB smoke run, \`-- --help\` for options).`,
    '',
    `Measured ${r.date} on ${m.cores} × ${m.cpu}, ${m.memoryGB} GB RAM, ${m.os}, Node ${m.node}; load average ${m.loadAverage.map((l) => l.toFixed(2)).join(' / ')} at the start. ` +
      `Tools: ${r.tools.map((x) => `${x.label} ${x.version}`).join(', ')}. Gitleaks with its default config (\`gitleaks dir\`), built as its release binaries are (\`-tags gore2regex\`, RE2 through wazero; the benchmark makes that build when \`.tools/bin/gitleaks\` is a plain \`go install\` one, which uses Go's standard regexp and is about 3× slower on this corpus), secretlint with \`@secretlint/secretlint-rule-preset-recommend\` (\`bench/scan/.secretlintrc.json\`), Keywarden with its defaults. ` +
      'The corpus is warmed into the page cache before the timed runs. Peak memory is the max RSS from GNU time. A planted secret counts as found when a finding overlaps its file and lines; a finding that overlaps no planted snippet counts as a false positive.',
    '',
    'The corpus (`bench/scan/corpus.ts`) is every UTF-8 text file of at most 2 MB in the project\'s `node_modules`, copied in shuffled order until the size is reached, ' +
      'with `node_modules` renamed `pkgs-N` (Gitleaks\' default config skips `node_modules/` paths) and without `.gitignore` or scanner config files; it is committed as a git checkout. ' +
      'Secrets come from `test/fixtures/secrets/generators.ts`, one kind per Keywarden detector, in equal shares: 80% inserted as new lines into copied files of at most 1 MB ' +
      '(never into paths that Gitleaks\' default allowlist skips or that it mistakes for Brotli archives — any path containing `.br`, such as `*.browser.js`, [gitleaks#1949](https://github.com/gitleaks/gitleaks/issues/1949) — nor into files with inline suppression comments), ' +
      '20% into `.env`, YAML, Python, JSON, properties, shell and TypeScript files the benchmark writes. ' +
      'The kinds follow Keywarden\'s detector catalogue, so recall here measures coverage of that catalogue: a kind with no Gitleaks rule (database URIs, PuTTY keys, Discord webhooks) counts as a Gitleaks miss.',
    '',
    renderMarkdown(r),
  ].join('\n');
}

/** Replaces (or appends) the `### Scan` section, leaving every other section as it is. */
export function writeDocsSection(docsFile: string, section: string): void {
  mkdirSync(path.dirname(docsFile), { recursive: true });
  const text = existsSync(docsFile) ? readFileSync(docsFile, 'utf8') : '# Benchmarks\n';
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^###\s+Scan\s*$/.test(l));
  const body = section.trimEnd().split('\n');
  let next: string[];
  if (start === -1) {
    next = [...trimTrailingBlank(lines), '', ...body, ''];
  } else {
    let end = lines.findIndex((l, i) => i > start && /^#{1,3}\s/.test(l));
    if (end === -1) end = lines.length;
    const after = lines.slice(end);
    next = [...lines.slice(0, start), ...body, '', ...(after.length ? after : [''])];
  }
  writeFileSync(docsFile, next.join('\n').replace(/\n*$/, '\n'));
}

function trimTrailingBlank(lines: string[]): string[] {
  const out = [...lines];
  while (out.length && out[out.length - 1]!.trim() === '') out.pop();
  return out;
}

const ADVERSARIAL_HEADING = '#### Adversarial inputs';

/**
 * The adversarial inputs' table: MB/s of Keywarden (tree mode and `--stdin`) and Gitleaks on the
 * same files in one run, their ratio, and the in-process engine on a quarter and the whole of
 * each input (time ×4 for 4× the bytes is linear).
 */
export function renderAdversarial(results: readonly AdversarialResult[], meta: { date: string; command: string; machine: string; timeoutSeconds: number }): string {
  const runOf = (r: AdversarialResult, mode: AdversarialRun['mode']): AdversarialRun | undefined => r.runs.find((x) => x.mode === mode);
  const cellOf = (x: AdversarialRun | undefined, bytes: number): string => {
    if (x === undefined) return 'n/a';
    if (x.m.timedOut) return `< ${(bytes / 1e6 / meta.timeoutSeconds).toFixed(2)} MB/s (stopped at ${meta.timeoutSeconds} s)`;
    return `${x.mbPerSecond.toFixed(1)} MB/s (${secs(x.m.wallSeconds)}, ${num(x.m.peakRssMB)} MB)`;
  };
  const ratio = (a: AdversarialRun | undefined, b: AdversarialRun | undefined): string => {
    if (!a || !b) return 'n/a';
    if (a.m.timedOut) return '–';
    if (b.m.timedOut) return `> ${(b.m.wallSeconds / a.m.wallSeconds).toFixed(1)}×`;
    const r = b.m.wallSeconds / a.m.wallSeconds;
    return `${r.toFixed(r < 10 ? 2 : 1)}×`;
  };
  const engineCell = (r: AdversarialResult): string =>
    r.engine.timedOut
      ? `< ${r.engine.mbPerSecond.toFixed(2)} MB/s (stopped at ${meta.timeoutSeconds} s)`
      : `${r.engine.mbPerSecond.toFixed(1)} MB/s${r.engine.found ? '' : ' (**missed**)'}`;
  const found = (x: AdversarialRun | undefined): string => (x === undefined ? 'n/a' : x.m.timedOut ? '–' : x.foundPlanted ? 'yes' : '**no**');
  const out = [
    ADVERSARIAL_HEADING,
    '',
    `Reproduce with \`${meta.command}\`. Measured ${meta.date} on ${meta.machine}. ` +
      'Each input is one file (`bench/scan/adversarial.ts`) ending with one planted GitHub token; both tools scan the same file in the same run, one run each, ' +
      `Keywarden with \`--max-file-size 100MB\` (tree mode reads a file above 8 MiB in overlapping chunks; \`--stdin\` scans it as one buffer), runs stopped after ${meta.timeoutSeconds} s. ` +
      'Cells: throughput (wall time, peak RSS). "Keywarden ÷ Gitleaks" is how many times faster Keywarden (tree mode) is. ' +
      'The engine columns time `scanBytes` in process on the first quarter of the input and on all of it: ×4 for 4× the bytes is linear time, ×16 would be quadratic.',
    '',
    '| input | size | Keywarden | Keywarden `--stdin` | Gitleaks | Keywarden ÷ Gitleaks | planted secret found (K / K stdin / G) | engine in process | engine time, all ÷ ¼ |',
    '|---|---:|---:|---:|---:|---:|:-:|---:|---:|',
  ];
  for (const r of results) {
    const kw = runOf(r, 'keywarden');
    const st = runOf(r, 'keywarden-stdin');
    const gl = runOf(r, 'gitleaks');
    out.push(
      `| ${r.name}: ${r.title} | ${num(r.bytes / 1e6, 1)} MB, ${num(r.lines)} line${r.lines === 1 ? '' : 's'} | ${cellOf(kw, r.bytes)} | ${cellOf(st, r.bytes)} | ${cellOf(gl, r.bytes)} | ${ratio(kw, gl)} | ` +
        `${found(kw)} / ${found(st)} / ${found(gl)} | ${engineCell(r)} | ${r.engine.timedOut ? '–' : `×${(r.engine.fullSeconds / r.engine.quarterSeconds).toFixed(1)}`} |`,
    );
  }
  out.push('');
  return out.join('\n');
}

/** The adversarial subsection as it stands in the docs (so a corpus-only run can keep it), or undefined. */
export function readAdversarialSection(docsFile: string): string | undefined {
  if (!existsSync(docsFile)) return undefined;
  const lines = readFileSync(docsFile, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim() === ADVERSARIAL_HEADING);
  if (start === -1) return undefined;
  let end = lines.findIndex((l, i) => i > start && /^#{1,4}\s/.test(l));
  if (end === -1) end = lines.length;
  return lines.slice(start, end).join('\n');
}

/** Replaces (or appends to the `### Scan` section) the adversarial subsection, leaving the rest as it is. */
export function writeAdversarialSection(docsFile: string, section: string): void {
  const text = existsSync(docsFile) ? readFileSync(docsFile, 'utf8') : '# Benchmarks\n';
  const lines = text.split('\n');
  const body = section.trimEnd().split('\n');
  let start = lines.findIndex((l) => l.trim() === ADVERSARIAL_HEADING);
  let end: number;
  if (start === -1) {
    const scan = lines.findIndex((l) => /^###\s+Scan\s*$/.test(l));
    if (scan === -1) {
      writeDocsSection(docsFile, ['### Scan', '', ...body].join('\n'));
      return;
    }
    // Goes right after the Scan section's checks table, before the per-kind details.
    const kinds = lines.findIndex((l, i) => i > scan && /^#### /.test(l));
    const next = lines.findIndex((l, i) => i > scan && /^#{1,3}\s/.test(l));
    start = kinds !== -1 && (next === -1 || kinds < next) ? kinds : next === -1 ? lines.length : next;
    end = start;
  } else {
    end = lines.findIndex((l, i) => i > start && /^#{1,4}\s/.test(l));
    if (end === -1) end = lines.length;
  }
  const next = [...lines.slice(0, start), ...body, '', ...lines.slice(end)];
  writeFileSync(docsFile, next.join('\n').replace(/\n*$/, '\n'));
}
