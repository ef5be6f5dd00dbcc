/** `keywarden scan`: find leaked keys and credentials in a tree, a git range, history or stdin. */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { gitTopLevel } from '../../git/run-git.js';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { createBaseline, formatBaseline, parseBaseline, type Baseline } from '../../scan/baseline.js';
import { builtinDetectors } from '../../scan/detectors/index.js';
import { formatSarif } from '../../scan/format/sarif.js';
import { formatBytes, formatSummary, formatText } from '../../scan/format/text.js';
import { scan, type ScanOptions, type ScanProgress } from '../../scan/scan.js';
import { resolveRange } from '../../scan/sources/git.js';
import type { ScanWarning } from '../../scan/types.js';
import { selectDetectors, type DetectorSelection } from '../../scan/select-detectors.js';
import type { SecretsConfig } from '../../policy/dsl/secrets.js';
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
  format: 'text' | 'json' | 'sarif';
  output?: string;
  baseline?: string;
  updateBaseline?: boolean;
  ignorePath?: string[];
  detectors?: string;
  excludeDetectors?: string;
  listDetectors?: boolean;
  maxFileSize?: string;
  workers?: string;
  gitignore: boolean;
  recurseSubmodules?: boolean;
  inlineAllow: boolean;
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
    .option('--history', 'scan every commit of the repository, each blob once')
    .option('--staged', 'scan only the lines the index adds against HEAD (what the next commit records)')
    .option('--stdin', 'scan standard input')
    .option('--stdin-name <name>', 'file name to report for standard input', '-')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
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
    .option('--no-gitignore', 'scan files that .gitignore excludes')
    .option('--recurse-submodules', 'also scan checked-out submodules and embedded repositories (default: counted as skipped)')
    .option('--no-inline-allow', 'ignore inline allow comments (keywarden:allow, gitleaks:allow, …)')
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
  const root = path.resolve(cwd, target);
  // A range is judged by the settings of its base revision, never by what it pushes: the policy
  // and the baseline are read at the base when the repository tracks them.
  const range = flags.git !== undefined ? await resolveRange(root, flags.git) : undefined;
  // --staged: the same rule with HEAD as the base and the index's changes as the range's (see
  // hooks/staged-settings.ts). GIT_INDEX_FILE is the index a hook's `git commit -a` stages into.
  const staged = flags.staged ? await import('../../hooks/staged-settings.js') : undefined;
  const stagedAt = staged ? await staged.resolveStagedSettingsBase(root, stagedIndexEnv(io, cwd)) : undefined;
  const inRepo = range || stagedAt ? await repoRelative(root) : undefined;
  const notes: ScanWarning[] = [];
  const baselinePath = flags.baseline ? path.resolve(cwd, flags.baseline) : undefined;
  let baseline: Baseline | undefined;
  const baselineRel = (range || stagedAt) && baselinePath && !flags.updateBaseline ? inRepo?.(baselinePath) : undefined;
  if (stagedAt && staged && baselineRel !== undefined) {
    const at = await staged.readFileAtStaged(stagedAt, baselineRel);
    if (at.untracked) baseline = readBaselineFile(baselinePath!, false);
    else if (at.base !== undefined) baseline = parseBaseline(at.base, baselineRel);
    if (at.changed && !at.untracked) notes.push(staged.changedInIndex(baselineRel, stagedAt.head, 'the secrets it accepts'));
  } else if (range && baselineRel !== undefined) {
    const { readFileAtRevisions, changedInRange } = await import('../../policy/secrets-at-revision.js');
    const at = await readFileAtRevisions(root, range.base, range.head, baselineRel);
    if (at.untracked) baseline = readBaselineFile(baselinePath!, false);
    else if (at.base !== undefined) baseline = parseBaseline(at.base, baselineRel);
    if (at.changed && !at.untracked) notes.push(changedInRange(baselineRel, range.base, 'the secrets it accepts'));
  } else if (baselinePath) baseline = readBaselineFile(baselinePath, Boolean(flags.updateBaseline));
  // Where results go is checked before the scan: a bad path is a usage error, not lost work.
  const output = flags.output ? prepareOutputFile(flags.output, cwd, { what: 'report (-o)', root }) : undefined;
  const baselineOut = flags.updateBaseline && flags.baseline ? prepareOutputFile(flags.baseline, cwd, { what: 'baseline', root }) : undefined;

  let policy: SecretsConfig | undefined;
  const policyRel = (range || stagedAt) && flags.config !== false ? (flags.config === undefined ? DEFAULT_POLICY_FILE : inRepo?.(path.resolve(cwd, flags.config))) : undefined;
  if ((range || stagedAt) && policyRel !== undefined) {
    const { readSecretsAtRevision } = await import('../../policy/secrets-at-revision.js');
    const at = stagedAt && staged ? await staged.readSecretsAtStaged(stagedAt, policyRel) : await readSecretsAtRevision(root, range!.base, range!.head, policyRel);
    if (at.untracked && flags.config !== undefined) policy = await readSecretsConfig(flags.config, root, cwd, false);
    else policy = at.config;
    if (at.warning) notes.push(at.warning);
  } else {
    policy = await readSecretsConfig(flags.config, root, cwd, Boolean(flags.stdin));
  }
  const selection: DetectorSelection = {
    ...(flags.detectors ? { include: splitList(flags.detectors) } : policy && !policy.presets.includes('none') ? { include: policy.presets } : {}),
    ...(flags.excludeDetectors ? { exclude: splitList(flags.excludeDetectors) } : {}),
    ...(policy?.custom.length ? { custom: policy.custom } : {}),
    ...(policy?.presets.includes('none') && !flags.detectors ? { builtins: false } : {}),
  };
  const ignorePaths = [...(policy?.ignorePaths ?? []), ...(flags.ignorePath ?? [])];
  const options: ScanOptions = {
    path: root,
    detectors: selection,
    maxFileSize: parseSize(flags.maxFileSize ?? '50MB'),
    gitignore: flags.gitignore,
    inlineAllow: flags.inlineAllow,
    ...(flags.secretlint ? { secretlint: true } : {}),
    ...(flags.recurseSubmodules ? { recurseSubmodules: true } : {}),
    ...(ignorePaths.length ? { ignorePaths } : {}),
    ...(baseline && !flags.updateBaseline ? { baseline } : {}),
    ...(flags.workers !== undefined ? { workers: parseWorkers(flags.workers) } : {}),
  };
  if (range) options.git = { range };
  if (flags.history) options.git = { history: true };
  if (stagedAt) options.git = { staged: true, ...(stagedAt.indexFile ? { indexFile: stagedAt.indexFile } : {}) };
  if (flags.stdin) options.content = { stream: (io.stdin ?? process.stdin) as AsyncIterable<Buffer | string>, file: flags.stdinName ?? '-' };

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

  const report =
    flags.format === 'json'
      ? `${JSON.stringify(result.findings, null, 2)}\n`
      : flags.format === 'sarif'
        ? formatSarif(result, selectDetectors(selection))
        : formatText(result, { color: color && !flags.output });
  if (output) output.write(report);
  else if (flags.format !== 'text' || !flags.quiet || result.findings.length) io.stdout(flags.format === 'text' && flags.quiet ? stripSummary(report) : report);

  printWarnings(result.warnings, io);
  // Machine formats keep stdout clean: the summary goes to stderr.
  if (!flags.quiet && (flags.format !== 'text' || flags.output)) {
    io.stderr(`${formatSummary(result.summary, color, new Set(result.findings.map((f) => f.file)).size)}\n`);
  }
  return result.findings.length > 0 ? 1 : 0;
}

/**
 * The `secrets:` block of the key policy: an explicit --config must exist; the default file is
 * used only when present. For --stdin there is no tree, so only an explicit --config counts.
 */
async function readSecretsConfig(config: string | false | undefined, root: string, cwd: string, stdin: boolean): Promise<SecretsConfig | undefined> {
  if (config === false) return undefined;
  // Loaded only when a policy is read: the policy parser compiles its schema at import.
  const load = async (file: string): Promise<SecretsConfig> => {
    const [{ readPolicy }, { getSecretsConfig }] = await Promise.all([import('../../policy/engine/load.js'), import('../../policy/dsl/secrets.js')]);
    return getSecretsConfig(await readPolicy(file, { cwd }));
  };
  if (config === undefined) {
    if (stdin) return undefined;
    const dir = statSync(root, { throwIfNoEntry: false })?.isDirectory() ? root : path.dirname(root);
    const file = path.join(dir, DEFAULT_POLICY_FILE);
    if (!existsSync(file)) return undefined;
    return load(file);
  }
  return load(path.resolve(cwd, config));
}

/** A path's repository-relative POSIX form, or undefined when it lies outside the work tree. */
async function repoRelative(dir: string): Promise<(abs: string) => string | undefined> {
  const top = realpathSync(await gitTopLevel(dir));
  return (abs) => {
    const rel = path.relative(top, realOr(abs));
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : undefined;
  };
}

/** The path with its folder's symlinks resolved; the last component is kept as named (a link is not followed). */
function realOr(p: string): string {
  try {
    return path.join(realpathSync(path.dirname(p)), path.basename(p));
  } catch {
    return path.resolve(p);
  }
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

function readBaselineFile(file: string, mayBeMissing: boolean): Baseline | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && mayBeMissing) return undefined;
    throw new KeywardenError(ErrorCode.BASELINE_INVALID, `Cannot read the baseline file (${code ?? 'error'}).`, {
      location: { file },
      hint: 'Create one with `keywarden scan --baseline FILE --update-baseline`.',
    });
  }
  return parseBaseline(text, file);
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
