/**
 * The adversarial inputs of the git modes, beside Gitleaks in one run: time and peak memory of
 * `scan --git A..B` and `scan --history` (and `gitleaks git`) on
 * - one 8 MB line of repeated keywords, committed (once quadratic in git modes);
 * - a range that adds 200 MB across 200 files (once 900 MB of memory);
 * - a 600 MB blob (once 1.8 GB of memory; over the default size limit, so counted, never buffered).
 * Each input ends with a planted GitHub token; Keywarden must report it (the blob's is past the
 * limit by design, so there the check is that memory stays flat).
 *
 * Usage: npm run build && npx tsx bench/scan/git-modes.ts [--scale 0.25] [--no-docs]
 * Writes the `#### Git modes` subsection of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, type Measurement } from './measure.js';
import { fingerprint, loadSecretKinds } from './secrets.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const scale = Number(args[args.indexOf('--scale') + 1] ?? 1) || 1;
const writeDocs = !args.includes('--no-docs');
const work = path.join(repoRoot, 'bench/.work/git-modes');
const bin = path.join(repoRoot, 'bin/keywarden.js');
const gitleaks = path.join(repoRoot, '.tools/bin/gitleaks');
const MB = 1_000_000;
const HEADING = '#### Git modes';
const TIMEOUT = 600;

const KEYWORDS = 'password= AKIA ghp_ -----BEGIN token secret api_key= eyJ sk_live_ xoxb- glpat- AIza hvs. npm_ secret_key: private_key ';
const env = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.test', NO_COLOR: '1' };
const git = (cwd: string, ...a: string[]): string => execFileSync('git', a, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });

interface Input {
  name: string;
  title: string;
  /** Builds the repository; returns the range to scan and the bytes the range adds. */
  build(dir: string, secret: string): { range: string; bytes: number };
  /** The planted secret is past the size limit on purpose. */
  overLimit?: boolean;
  /** Also measure Keywarden with these settings (reported below the table). */
  alsoWith?: string[];
}

function writeRepeated(file: string, unit: string, bytes: number, tail: string): void {
  const fd = openSync(file, 'w');
  const block = Buffer.from(unit.repeat(Math.ceil((1 << 20) / unit.length)), 'latin1');
  let left = bytes;
  while (left > 0) left -= writeSync(fd, block, 0, Math.min(block.length, left));
  writeSync(fd, tail);
  closeSync(fd);
}

const inputs: Input[] = [
  {
    name: 'keyword-line',
    title: 'one committed 8 MB line of repeated keywords',
    build(dir, secret) {
      const n = Math.round(8 * MB * scale);
      writeRepeated(path.join(dir, 'line.txt'), KEYWORDS, n, ` ${secret}\n`);
      git(dir, 'add', '.');
      git(dir, 'commit', '-qm', 'line');
      return { range: 'HEAD~1..HEAD', bytes: n };
    },
  },
  {
    name: 'big-diff',
    title: 'a range adding 200 MB in 200 files of code-like lines',
    build(dir, secret) {
      const files = Math.max(4, Math.round(200 * scale));
      const line = 'const value = compute(alpha, beta) + other.token_count; // a comment with a keyword: secret\n';
      // Distinct files (each its own blob): the history scans every one, as the range does.
      for (let i = 0; i < files; i++) writeRepeated(path.join(dir, `f${i}.js`), `// module ${i}\n${line}`, MB, i === files - 1 ? `GITHUB_TOKEN=${secret}\n` : '');
      git(dir, 'add', '.');
      git(dir, 'commit', '-qm', 'big');
      return { range: 'HEAD~1..HEAD', bytes: files * MB };
    },
  },
  {
    name: 'big-blob',
    title: 'one 600 MB blob (over the default 50 MiB limit)',
    overLimit: true,
    alsoWith: ['--max-file-size', '1GB'],
    build(dir, secret) {
      const n = Math.round(600 * MB * scale);
      writeRepeated(path.join(dir, 'dump.sql'), "INSERT INTO t VALUES (1, 'row');\n", n, `GITHUB_TOKEN=${secret}\n`);
      git(dir, 'add', '.');
      git(dir, 'commit', '-qm', 'blob');
      return { range: 'HEAD~1..HEAD', bytes: n };
    },
  },
];

interface Row {
  input: Input;
  bytes: number;
  runs: { label: string; m: Measurement; found: boolean | undefined }[];
  also: { label: string; m: Measurement; found: boolean | undefined }[];
}

async function run(label: string, cmd: string, argv: string[], cwd: string, out: string, found: () => boolean | undefined): Promise<Row['runs'][number]> {
  const m = await measure({ cmd, args: argv, cwd, env, stdoutFile: `${out}.stdout`, stderrFile: `${out}.stderr`, timeoutSeconds: TIMEOUT });
  const r = { label, m, found: m.timedOut ? undefined : found() };
  process.stderr.write(`  ${label}: ${m.wallSeconds.toFixed(2)} s, ${m.peakRssMB.toFixed(0)} MB${m.timedOut ? ' (stopped)' : ''}, planted ${r.found ? 'found' : 'not found'}\n`);
  return r;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(repoRoot, 'dist/cli/main.js'))) throw new Error('dist/ is missing: npm run build first');
  const haveGitleaks = existsSync(gitleaks);
  const kinds = await loadSecretKinds(repoRoot, 'git-modes');
  const pat = kinds.find((k) => k.detectorId === 'github-pat-classic')!;
  const rows: Row[] = [];
  rmSync(work, { recursive: true, force: true });
  for (const input of inputs) {
    const dir = path.join(work, input.name);
    mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q', '-b', 'main');
    writeFileSync(path.join(dir, 'README.md'), 'bench\n');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'base');
    const secret = pat.generate().secret;
    const want = fingerprint(secret);
    process.stderr.write(`git-modes ${input.name}: building\n`);
    const { range, bytes } = input.build(dir, secret);
    const out = path.join(work, `${input.name}.json`);
    const kwFound = (): boolean => (JSON.parse(readFileSync(out, 'utf8')) as { fingerprint: string }[]).some((f) => f.fingerprint === want);
    const glFound = (): boolean => ((JSON.parse(readFileSync(out, 'utf8')) as { Secret?: string }[] | null) ?? []).some((f) => f.Secret !== undefined && fingerprint(f.Secret) === want);
    const row: Row = { input, bytes, runs: [], also: [] };
    row.runs.push(await run('Keywarden --git', process.execPath, [bin, 'scan', dir, '--git', range, '-f', 'json', '-o', out, '--no-progress', '-q'], dir, out, kwFound));
    row.runs.push(await run('Keywarden --history', process.execPath, [bin, 'scan', dir, '--history', '-f', 'json', '-o', out, '--no-progress', '-q'], dir, out, kwFound));
    if (haveGitleaks) {
      const gl = (extra: string[]): string[] => ['git', dir, ...extra, '--report-format', 'json', '--report-path', out, '--no-banner', '--exit-code', '0', '--log-level', 'error'];
      row.runs.push(await run('Gitleaks git (range)', gitleaks, gl([`--log-opts=${range}`]), dir, out, glFound));
      row.runs.push(await run('Gitleaks git (all)', gitleaks, gl([]), dir, out, glFound));
    }
    if (input.alsoWith) {
      for (const mode of [['--git', range], ['--history']]) {
        const label = `Keywarden ${mode[0]} ${input.alsoWith.join(' ')}`;
        row.also.push(await run(label, process.execPath, [bin, 'scan', dir, ...mode, ...input.alsoWith, '-f', 'json', '-o', out, '--no-progress', '-q'], dir, out, kwFound));
      }
    }
    rows.push(row);
    rmSync(dir, { recursive: true, force: true });
  }
  const cell = (r: Row['runs'][number] | undefined, bytes: number): string => {
    if (!r) return 'n/a';
    if (r.m.timedOut) return `stopped at ${TIMEOUT} s`;
    return `${(bytes / MB / r.m.wallSeconds).toFixed(1)} MB/s (${r.m.wallSeconds.toFixed(2)} s, ${r.m.peakRssMB.toFixed(0)} MB)`;
  };
  const found = (row: Row): string => row.runs.map((r) => (r.found === undefined ? '–' : r.found ? 'yes' : 'no')).join(' / ');
  const ratio = (a: Row['runs'][number] | undefined, b: Row['runs'][number] | undefined): string =>
    a && b && !a.m.timedOut ? `${(b.m.wallSeconds / a.m.wallSeconds).toFixed(2)}×${b.m.timedOut ? '+' : ''}` : 'n/a';
  const lines = [
    HEADING,
    '',
    `Reproduce with \`npm run build && npx tsx bench/scan/git-modes.ts\`. Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' / ')} at the start; scale ${scale}. ` +
      'Each input is a repository whose last commit adds it, ending with a planted GitHub token; Keywarden and Gitleaks scan the same repository in the same run, ' +
      'default settings (Keywarden skips blobs over 50 MiB and counts them: the big blob\'s token is past that limit on purpose, and the point of that row is that memory stays flat). ' +
      'Cells: throughput over the bytes the range adds (wall time, peak RSS). "÷" is Gitleaks\' time over Keywarden\'s for the same mode.',
    '',
    '| input | adds | Keywarden `--git` | Keywarden `--history` | Gitleaks git (range) | Gitleaks git (all) | ÷ range | ÷ history | planted found (K git / K history / G range / G all) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|:-:|',
    ...rows.map((row) => {
      const [kg, kh, gg, ga] = [0, 1, 2, 3].map((i) => row.runs[i]);
      return `| ${row.input.name}: ${row.input.title} | ${(row.bytes / MB).toFixed(0)} MB | ${cell(kg, row.bytes)} | ${cell(kh, row.bytes)} | ${cell(gg, row.bytes)} | ${cell(ga, row.bytes)} | ${ratio(kg, gg)} | ${ratio(kh, ga)} | ${found(row)} |`;
    }),
    '',
    ...rows.flatMap((row) =>
      row.also.map((r) => `${row.input.name}, \`${r.label.replace('Keywarden ', '')}\` (the blob scanned, streamed in windows): ${cell(r, row.bytes)}, planted ${r.found ? 'found' : 'not found'}.`),
    ),
    '',
  ];
  const section = lines.join('\n');
  process.stdout.write(`${section}\n`);
  if (writeDocs) writeSection(path.join(repoRoot, 'docs/benchmarks.md'), section);
}

/** Replaces the subsection (or puts it before `#### Recall per kind of secret`). */
function writeSection(file: string, section: string): void {
  const text = readFileSync(file, 'utf8').split('\n');
  let start = text.findIndex((l) => l.trim() === HEADING);
  let end: number;
  if (start === -1) {
    start = text.findIndex((l) => l.startsWith('#### Recall per kind'));
    if (start === -1) start = text.length;
    end = start;
  } else {
    end = text.findIndex((l, i) => i > start && /^#{1,4}\s/.test(l));
    if (end === -1) end = text.length;
  }
  text.splice(start, end - start, ...section.trimEnd().split('\n'), '');
  writeFileSync(file, text.join('\n'));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
