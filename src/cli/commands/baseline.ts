/**
 * `keywarden baseline import FILE`: turns another scanner's triage (`.gitleaksignore`,
 * `.gitleaks.toml` allowlists, detect-secrets' `.secrets.baseline`, `.secretlintignore`,
 * `.gitguardian.yaml`) into a Keywarden baseline.
 *
 * A Keywarden baseline is keyed by the secret's fingerprint (SHA-256), never by place, and the
 * format stays as it is. Peer entries name places (a fingerprint `file:rule:line`), SHA-1s or
 * paths, so the import scans the folder the peer file describes (`--root`, default the file's
 * folder; its history too when the file names commits, or with `--history`), applies the peer
 * file's rules, and records the fingerprint of every finding they suppress, with the entry that
 * did it as the reason. A ggshield `match` (the secret or its SHA-256) is a fingerprint already and
 * is recorded as it is. What cannot be carried over is counted in the report: entries that match
 * nothing found today, and path rules, whose future findings a fingerprint cannot cover (the peer
 * file, which `keywarden scan` also honours, or the policy's `secrets.ignore-paths` does that).
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { readFdText } from '../../util/read-fd.js';
import { isInsideWorkTree } from '../../git/run-git.js';
import { prepareScan, type DetectMode } from '../../pipeline/detect.js';
import { createBaseline, formatBaseline, parseBaseline, type Baseline } from '../../scan/baseline.js';
import { scan } from '../../scan/scan.js';
import { applyPeerSuppressions, type ApplyPeerResult } from '../../scan/suppress/apply.js';
import { combinePeerFiles, peerFileKind } from '../../scan/suppress/peer-files.js';
import { parsePeerText } from '../../scan/suppress/read-peer-files.js';
import { PEER_TOOLS, type ParsedPeerFile, type PeerOrigin, type PeerTool } from '../../scan/suppress/types.js';
import type { Finding } from '../../scan/types.js';
import type { CliIO } from '../main.js';
import { prepareOutputFile } from '../output-file.js';

/** Largest peer file imported (a detect-secrets baseline of a big monorepo is a few MB). */
const MAX_IMPORT_BYTES = 32 * 1024 * 1024;

interface ImportFlags {
  from?: PeerTool;
  output?: string;
  root?: string;
  history?: boolean;
  config?: string | false;
  workers?: string;
  quiet?: boolean;
}

export function registerBaselineCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const group = program.command('baseline').description('Keywarden baselines: accepted findings, keyed by fingerprint');
  group
    .command('import')
    .description("Convert another scanner's suppressions (.gitleaksignore, .gitleaks.toml, .secrets.baseline, .secretlintignore, .gitguardian.yaml) into a Keywarden baseline")
    .argument('<file>', 'the peer file')
    .addOption(new Option('--from <tool>', 'the tool the file is from (default: by its name)').choices([...PEER_TOOLS]))
    .option('-o, --output <file>', 'the Keywarden baseline to write (merged into it when it exists; default: standard output)')
    .option('--root <dir>', "the folder the peer file's paths are relative to (default: the file's folder)")
    .option('--history', "also scan the repository's history (default: only when the file names commits)")
    .option('-c, --config <file>', 'key policy whose secrets: block sets the detectors (default: as keywarden scan)')
    .option('--no-config', 'ignore the key policy file')
    .option('--workers <n>', 'worker threads (0 scans in the main thread)')
    .option('-q, --quiet', 'no report on standard error')
    .action(async (file: string, flags: ImportFlags) => {
      setExit(await runImport(file, flags, io));
    });
}

async function runImport(file: string, flags: ImportFlags, io: CliIO): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const abs = path.resolve(cwd, file);
  const kind = peerFileKind(abs, flags.from);
  if (!kind) {
    throw new KeywardenError(ErrorCode.USAGE, `Cannot tell which tool ${file} is from by its name.`, {
      fault: 'user',
      hint: `Pass --from ${PEER_TOOLS.join('|')}.`,
    });
  }
  const root = path.resolve(cwd, flags.root ?? path.dirname(abs));
  const output = flags.output ? prepareOutputFile(flags.output, cwd, { what: 'baseline', root }) : undefined;
  const name = path.basename(abs);
  const parsed = parsePeerText(kind.parse, readPeerFile(abs, file), name);
  assertUsable(parsed, file);
  for (const w of parsed.warnings) if (!flags.quiet) io.stderr(`keywarden: warning: ${w.message} [${w.code}]\n`);
  const peer = combinePeerFiles([{ file: name, parsed }]);

  // Scan what the peer file describes, without any peer file applied, then apply this one.
  const suppressed: ApplyPeerResult['suppressed'] = [];
  const namesCommits = parsed.rules.some((r) => r.kind === 'location' && r.commit !== undefined);
  const modes: DetectMode[] = [{ kind: 'tree' }];
  if ((flags.history || namesCommits) && (await isInsideWorkTree(root))) modes.push({ kind: 'history' });
  else if (flags.history) throw new KeywardenError(ErrorCode.NOT_A_GIT_REPO, `--history needs a git repository; ${root} is not in one.`, { fault: 'user' });
  if (parsed.rules.some((r) => r.kind !== 'match')) {
    for (const mode of modes) {
      const { options } = await prepareScan({
        cwd,
        root,
        mode,
        peerSuppressions: false,
        ...(flags.config !== undefined ? { config: flags.config } : {}),
        ...(flags.workers !== undefined ? { scan: { workers: parseWorkers(flags.workers) } } : {}),
      });
      if (mode.kind === 'history') options.allOccurrences = true;
      const result = await scan(options);
      const source = mode.kind === 'history' ? { kind: 'git' as const } : { kind: 'tree' as const };
      const applied = await applyPeerSuppressions(result.findings, peer, { root, source, maxFileSize: options.maxFileSize ?? 50 * 1024 * 1024 });
      suppressed.push(...applied.suppressed);
      for (const w of applied.warnings) if (!flags.quiet) io.stderr(`keywarden: warning: ${w.message} [${w.code}]\n`);
    }
  }

  const previous = output ? readExisting(output.path, flags.output!) : undefined;
  const why = new Map<string, string>();
  for (const s of suppressed) if (!why.has(s.finding.fingerprint)) why.set(s.finding.fingerprint, reasonOf(s.origin));
  const findings: Finding[] = [...new Map(suppressed.map((s) => [s.finding.fingerprint, s.finding])).values()];
  const next = createBaseline(findings, previous, (f) => why.get(f.fingerprint));
  let direct = 0;
  for (const r of parsed.rules) {
    if (r.kind !== 'match') continue;
    direct++;
    next.secrets[r.fingerprint] ??= { ruleId: 'unknown', reason: reasonOf(r.origin) };
  }
  const text = formatBaseline(next);
  if (output) output.write(text);
  else io.stdout(text);

  if (!flags.quiet) io.stderr(`${report(file, kind.tool, parsed, suppressed, findings.length, direct, next, previous)}\n`);
  return 0;
}

/** A structured file that yields nothing but errors is refused as a whole, with its first location. */
function assertUsable(parsed: ParsedPeerFile, file: string): void {
  const invalid = parsed.warnings.filter((w) => w.code === 'KW_PEER_IGNORE_INVALID');
  if (parsed.rules.length || parsed.notSuppressions.length || !invalid.length) return;
  const first = invalid[0]!;
  throw new KeywardenError(ErrorCode.PEER_FILE_INVALID, `${file} has no usable suppression: ${first.message.replace(/^[^:]*(?::\d+)?: /, '')}`, {
    location: { file, ...(first.line ? { line: first.line } : {}) },
    hint: 'Fix the file (or pass --from with the right tool) and import it again.',
    details: { problems: invalid.map((w) => ({ ...(w.line ? { line: w.line } : {}), message: w.message })) },
  });
}

function reasonOf(o: PeerOrigin): string {
  return `imported from ${o.file}${o.line ? `:${o.line}` : ''}: ${o.entry}`.slice(0, 300);
}

function report(
  file: string,
  tool: PeerTool,
  parsed: ParsedPeerFile,
  suppressed: ApplyPeerResult['suppressed'],
  secrets: number,
  direct: number,
  next: Baseline,
  previous: Baseline | undefined,
): string {
  const used = new Set(suppressed.map((s) => `${s.origin.entry}\0${s.origin.line ?? ''}`));
  const entries = parsed.rules.filter((r) => r.kind === 'location' || r.kind === 'hash');
  const unmatched = entries.filter((r) => !used.has(`${r.origin.entry}\0${r.origin.line ?? ''}`)).length;
  const pathRules = parsed.rules.filter((r) => r.kind === 'path' || r.kind === 'allowlist' || r.kind === 'content').length;
  const added = Object.keys(next.secrets).length - Object.keys(previous?.secrets ?? {}).length;
  const lines = [
    `keywarden: imported ${file} (${tool}): ${secrets} secret(s) its entries suppress today${direct ? `, ${direct} named by hash` : ''}; the baseline now accepts ${Object.keys(next.secrets).length} (${added} new).`,
  ];
  if (unmatched) lines.push(`  ${unmatched} of ${entries.length} entries matched no finding (fixed since, or written by another version of the file); they are not carried over.`);
  if (pathRules) lines.push(`  ${pathRules} path or pattern rule(s): the baseline accepts what they cover today; new findings there will be reported unless the peer file stays (keywarden scan honours it) or the policy's secrets.ignore-paths covers them.`);
  if (parsed.notSuppressions.length) lines.push(`  ${parsed.notSuppressions.length} entr${parsed.notSuppressions.length === 1 ? 'y is' : 'ies are'} not suppressions (audited as real secrets) and were left out.`);
  return lines.join('\n');
}

/** The peer file, bounded: a typed error for a missing, special or huge file. */
function readPeerFile(abs: string, shown: string): string {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new KeywardenError(code === 'ENOENT' ? ErrorCode.PATH_NOT_FOUND : ErrorCode.FILE_UNREADABLE, `Cannot read ${shown} (${code}).`, { fault: 'user', location: { file: shown } });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeywardenError(ErrorCode.FILE_UNREADABLE, `${shown} is not a regular file.`, { fault: 'user', location: { file: shown } });
    if (st.size > MAX_IMPORT_BYTES) {
      throw new KeywardenError(ErrorCode.INPUT_TOO_LARGE, `${shown} is ${st.size} bytes, more than the ${MAX_IMPORT_BYTES} a peer file may have.`, {
        fault: 'user',
        location: { file: shown },
        details: { size: st.size, max: MAX_IMPORT_BYTES },
      });
    }
    return readFdText(fd, st.size);
  } finally {
    closeSync(fd);
  }
}

function readExisting(abs: string, shown: string): Baseline | undefined {
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    return undefined;
  }
  return parseBaseline(text, shown);
}

function parseWorkers(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new KeywardenError(ErrorCode.USAGE, `Invalid --workers "${s}": use a whole number from 0 to 64.`, { fault: 'user' });
  return n;
}
