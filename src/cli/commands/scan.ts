/** `keywarden scan`: find leaked keys and credentials in a tree, a git range, history or stdin. Thin: flags → prepareScan → scan → present. */
import path from 'node:path';
import { Command, Option } from 'commander';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { prepareScan, type DetectMode } from '../../pipeline/detect.js';
import { createBaseline, formatBaseline } from '../../scan/baseline.js';
import { builtinDetectors } from '../../scan/detectors/index.js';
import { formatJsonReport } from '../../scan/format/json.js';
import { formatSarif } from '../../scan/format/sarif.js';
import { formatBytes, formatSummary, formatText } from '../../scan/format/text.js';
import { scan, type ScanProgress } from '../../scan/scan.js';
import { selectDetectors } from '../../scan/select-detectors.js';
import { DEFAULT_POLICY_FILE } from '../../policy/default-file.js';
import type { CliIO } from '../main.js';
import { prepareOutputFile } from '../output-file.js';

interface ScanFlags {
  config?: string | false;
  git?: string;
  history?: boolean;
  staged?: boolean;
  stdin?: boolean;
  stdinName?: string;
  format: 'text' | 'json' | 'json-report' | 'sarif';
  output?: string;
  baseline?: string;
  updateBaseline?: boolean;
  ignorePath?: string[];
  detectors?: string;
  excludeDetectors?: string;
  listDetectors?: boolean;
  maxFileSize?: string;
  workers?: string;
  /** Unset: `.gitignore` as git reads it (only inside a work tree). */
  gitignore?: boolean;
  allOccurrences?: boolean;
  recurseSubmodules?: boolean;
  inlineAllow: boolean;
  /** `--no-peer-ignores`: other scanners' suppression files (.gitleaksignore, …) are not read. */
  peerIgnores: boolean;
  progress: boolean;
  secretlint?: boolean;
  color?: boolean;
  quiet?: boolean;
}

export function registerScanCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('scan')
    .description('Find leaked keys and credentials. Exit code 0 when clean, 1 when something was found, 2 for a usage or configuration error.')
    .argument('[path]', 'directory or file to scan (the repository for --git/--history)', '.')
    .option('--git <range>', 'scan only the lines added in a revision range, e.g. main..HEAD')
    .option('--history', 'scan every commit of the repository, each blob once; one finding per secret and path, at the commit that added it')
    .option('--all-occurrences', 'with --history: report every occurrence, not one per secret and path')
    .option('--staged', 'scan only the lines the index adds against HEAD (what the next commit records)')
    .option('--stdin', 'scan standard input')
    .option('--stdin-name <name>', 'file name to report for standard input', '-')
    .addOption(
      new Option('-f, --format <format>', 'output format (json-report: the findings with the summary, skipped files and warnings)')
        .choices(['text', 'json', 'json-report', 'sarif'])
        .default('text'),
    )
    .option('-o, --output <file>', 'write the report to a file instead of standard output')
    .option('-c, --config <file>', `key policy whose secrets: block sets detectors and ignored paths (default: ${DEFAULT_POLICY_FILE} under PATH, if present)`)
    .option('--no-config', 'ignore the key policy file')
    .option('--baseline <file>', 'accept the findings recorded in this baseline file (keyed by fingerprint)')
    .option('--update-baseline', 'add the current findings to the --baseline file and exit 0')
    .option('--ignore-path <glob...>', 'gitignore-style patterns of paths not to scan')
    .option('--detectors <ids>', 'comma-separated detector ids or credential types to run (default: all built-in)')
    .option('--exclude-detectors <ids>', 'comma-separated detector ids or credential types not to run')
    .option('--list-detectors', 'list the built-in detectors and exit')
    .option('--max-file-size <size>', 'skip files larger than this (e.g. 10MB)', '50MB')
    .option('--workers <n>', 'worker threads (0 scans in the main thread)')
    .option('--secretlint', "also run secretlint's recommended preset as a second opinion (slow)")
    .option('--gitignore', 'honour .gitignore files outside a git work tree too (inside one, git always does)')
    .option('--no-gitignore', 'scan files that .gitignore excludes, inside a git work tree too')
    .option('--recurse-submodules', 'also scan checked-out submodules and embedded repositories (default: counted as skipped)')
    .option('--no-inline-allow', 'ignore inline allow comments (keywarden:allow, gitleaks:allow, …)')
    .option('--no-peer-ignores', "ignore other scanners' suppression files (.gitleaksignore, .gitleaks.toml, .secrets.baseline, .secretlintignore, .gitguardian.yaml)")
    .option('--no-progress', 'no progress bar')
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .option('-q, --quiet', 'print only the report, no summary')
    .action(async (target: string, flags: ScanFlags) => {
      setExit(await runScan(target, flags, io));
    });
}

async function runScan(target: string, flags: ScanFlags, io: CliIO): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  if (flags.listDetectors) {
    for (const d of builtinDetectors) io.stdout(`${d.id.padEnd(36)} ${d.type.padEnd(24)} ${d.severity.padEnd(9)} ${d.title}\n`);
    return 0;
  }
  const modes = [flags.git !== undefined, Boolean(flags.history), Boolean(flags.staged), Boolean(flags.stdin)].filter(Boolean).length;
  if (modes > 1) throw usage('Use only one of --git, --history, --staged and --stdin.');
  if (flags.updateBaseline && !flags.baseline) throw usage('--update-baseline needs --baseline FILE.');
  if (flags.allOccurrences && !flags.history) throw usage('--all-occurrences goes with --history.');
  const root = path.resolve(cwd, target);
  // Where results go is checked before the scan: a bad path is a usage error, not lost work.
  const output = flags.output ? prepareOutputFile(flags.output, cwd, { what: 'report (-o)', root }) : undefined;
  const baselineOut = flags.updateBaseline && flags.baseline ? prepareOutputFile(flags.baseline, cwd, { what: 'baseline', root }) : undefined;
  const mode: DetectMode =
    flags.git !== undefined
      ? { kind: 'range', range: flags.git }
      : flags.history
        ? { kind: 'history' }
        : flags.staged
          ? { kind: 'staged', ...(stagedIndexEnv(io, cwd) ? { indexFile: stagedIndexEnv(io, cwd)! } : {}) }
          : flags.stdin
            ? { kind: 'stdin' }
            : { kind: 'tree' };
  const { options, notes, selection, baseline, baselinePath } = await prepareScan({
    cwd,
    root,
    mode,
    ...(flags.config !== undefined ? { config: flags.config } : {}),
    ...(flags.baseline ? { baseline: flags.baseline } : {}),
    ...(flags.updateBaseline ? { updateBaseline: true } : {}),
    ...(flags.detectors ? { detectors: splitList(flags.detectors) } : {}),
    ...(flags.excludeDetectors ? { excludeDetectors: splitList(flags.excludeDetectors) } : {}),
    ...(flags.ignorePath?.length ? { ignorePaths: flags.ignorePath } : {}),
    ...(flags.peerIgnores === false ? { peerSuppressions: false } : {}),
    scan: {
      maxFileSize: parseSize(flags.maxFileSize ?? '50MB'),
      ...(flags.gitignore !== undefined ? { gitignore: flags.gitignore } : {}),
      inlineAllow: flags.inlineAllow,
      ...(flags.secretlint ? { secretlint: true } : {}),
      ...(flags.recurseSubmodules ? { recurseSubmodules: true } : {}),
      ...(flags.workers !== undefined ? { workers: parseWorkers(flags.workers) } : {}),
    },
  });
  if (flags.stdin) options.content = { stream: (io.stdin ?? process.stdin) as AsyncIterable<Buffer | string>, file: flags.stdinName ?? '-' };
  if (flags.allOccurrences) options.allOccurrences = true;

  const color = flags.color ?? (Boolean(io.isTTY) && !io.env?.NO_COLOR);
  const progress = flags.progress && Boolean(io.isTTY) && !flags.quiet && !flags.stdin ? createProgress(io) : undefined;
  if (progress) options.onProgress = progress.update;
  let result;
  try {
    result = await scan(options);
  } finally {
    progress?.done();
  }

  result.warnings.unshift(...notes);
  if (baselineOut && baselinePath) {
    const next = createBaseline(result.findings, baseline);
    baselineOut.write(formatBaseline(next));
    if (!flags.quiet) io.stderr(`keywarden: baseline ${path.relative(cwd, baselinePath) || baselinePath} now accepts ${Object.keys(next.secrets).length} secret(s).\n`);
    return 0;
  }

  const formats = {
    json: () => `${JSON.stringify(result.findings, null, 2)}\n`,
    'json-report': () => formatJsonReport(result),
    sarif: () => formatSarif(result, selectDetectors(selection)),
    text: () => formatText(result, { color: color && !flags.output }),
  };
  const report = formats[flags.format]();
  if (output) output.write(report);
  else if (flags.format !== 'text' || !flags.quiet || result.findings.length) io.stdout(flags.format === 'text' && flags.quiet ? stripSummary(report) : report);

  printWarnings(result.warnings, io);
  // Machine formats keep stdout clean: the summary goes to stderr.
  if (!flags.quiet && (flags.format !== 'text' || flags.output)) {
    io.stderr(`${formatSummary(result.summary, color, new Set(result.findings.map((f) => f.file)).size)}\n`);
  }
  return result.findings.length > 0 ? 1 : 0;
}




/** The index git named for a hook (`GIT_INDEX_FILE`, relative to the directory it runs in). */
function stagedIndexEnv(io: CliIO, cwd: string): string | undefined {
  const f = io.env?.GIT_INDEX_FILE;
  return f ? path.resolve(cwd, f) : undefined;
}

function stripSummary(report: string): string {
  const lines = report.trimEnd().split('\n');
  lines.pop();
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function printWarnings(warnings: { code: string; message: string }[], io: CliIO): void {
  const MAX = 20;
  for (const w of warnings.slice(0, MAX)) io.stderr(`keywarden: warning: ${w.message} [${w.code}]\n`);
  if (warnings.length > MAX) io.stderr(`keywarden: … and ${warnings.length - MAX} more warnings.\n`);
}


function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(s.trim());
  if (!m) throw usage(`Invalid size "${s}". Use a number with an optional unit: 500KB, 10MB, 1GB.`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('g') ? 1024 ** 3 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('k') ? 1024 : 1;
  return Math.floor(Number(m[1]) * mult);
}

function parseWorkers(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw usage(`Invalid --workers "${s}": use a whole number from 0 to 64.`);
  return n;
}

function usage(message: string): KeywardenError {
  return new KeywardenError(ErrorCode.USAGE, message, { fault: 'user' });
}


function createProgress(io: CliIO): { update: (p: ScanProgress) => void; done: () => void } {
  let last = 0;
  let shown = false;
  const started = Date.now();
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      const width = 24;
      const frac = p.discovered ? Math.min(1, p.files / p.discovered) : 0;
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
      const secs = (now - started) / 1000;
      io.stderr(`\r${bar} ${p.files}/${p.discovered} files · ${formatBytes(p.bytes)} · ${p.findings} findings · ${formatBytes(p.bytes / Math.max(secs, 0.001))}/s\x1b[K`);
    },
    done() {
      if (shown) io.stderr('\r\x1b[K');
    },
  };
}
