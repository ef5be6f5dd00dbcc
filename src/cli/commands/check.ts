/**
 * `keywarden check [PATH]`: the keys a repository declares (Terraform, CloudFormation, Kubernetes
 * manifests) held to the key policy, through the same compiled Rego that judges live keys.
 *
 * Lists files as `scan` does (what git would commit inside a work tree), reads only configuration
 * files (`.tf`, `.tfvars`, `.yaml`, `.yml`, `.json`, `.template`) no larger than the inspector's
 * cap, never through a symlink, extracts facts (src/inspect), and evaluates the policy
 * (`--policy`, else `.github/keywarden.yml` under PATH, else the built-in default). Exit codes as
 * `scan`: 0 no violation, 1 violations, 2 a broken policy or usage, 3 a failure. Bad input files are
 * problems at their line, reported beside the violations; the rest of the repository is checked.
 */
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, lstatSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { ProblemCode, type Fact, type InspectFileInput, type KeyFact, type KeyRefFact, type Problem } from '../../inspect/index.js';
import { CONFIG_FILE, judgeConfig, MAX_CONFIG_BYTES, MAX_CONFIG_FILES, violationAt } from '../../pipeline/check-config.js';
import type { ConfigFixResult } from '../../remediate/fix-config.js';
import type { PolicyAst } from '../../policy/dsl/ast.js';
import { PolicyError } from '../../policy/dsl/policy-error.js';
import { DEFAULT_POLICY_FILE, readPolicy, readRegoModules } from '../../policy/engine/load.js';
import { findOpaRunner } from '../../policy/engine/opa-runner.js';
import { createPolicyEngine } from '../../policy/engine/policy-engine.js';
import { defaultPolicy } from '../../policy/default-policy.js';
import { defaultCacheDir } from '../../policy/engine/cache-dir.js';
import type { Violation } from '../../policy/input.js';
import { fileUri } from '../../scan/format/sarif.js';
import { escapeName } from '../../scan/format/text.js';
import { fsPathOf } from '../../scan/sources/entry-path.js';
import { listTree } from '../../scan/sources/tree.js';
import { readFdText } from '../../util/read-fd.js';
import type { Drift } from '../../inspect/drift.js';
import { backendSettingsOf, type BackendFlags } from '../backend-flags.js';
import type { CliIO } from '../main.js';
import { prepareOutputFile } from '../output-file.js';

const EXIT = { OK: 0, FOUND: 1, USAGE: 2 } as const;

interface CheckFlags extends BackendFlags {
  policy?: string;
  policies?: string;
  fix?: boolean;
  drift?: boolean;
  stateDir?: string;
  format: 'text' | 'json' | 'sarif';
  output?: string;
}

export interface CheckReport {
  violations: Violation[];
  problems: Problem[];
  /** With `--drift`: where the declared keys and the KMS disagree. */
  drift?: Drift[];
  summary: { files: number; configFiles: number; keys: number; secretRefs: number; unknown: Record<string, number>; skipped: number; policy: string; drift?: { backend: string; compared: number; unmatched: number } };
}

export function registerCheckCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cwd = io.cwd ?? process.cwd();
  program
    .command('check')
    .description('Check the keys the repository declares (Terraform, CloudFormation, Kubernetes) against the key policy. Exit 1 on violations.')
    .argument('[path]', 'folder (or file) to check', '.')
    .option('--policy <file>', `policy file (default: ${DEFAULT_POLICY_FILE} under the path when it exists, else the built-in default)`)
    .option('--policies <dir>', 'folder of custom .rego modules that join the bundle (default: policies/ under the path when it exists)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .option('-o, --output <file>', 'write the report to a file instead of standard output')
    .option('--fix', 'apply the safe fixes (turn rotation on, set the rotation period or deletion window within the policy) to the files, then check again')
    .option('--drift', 'compare the declared keys with the live ones in the configured backend (matched by alias); drift counts as a violation')
    .option('--backend <kind>', 'with --drift: the backend to read (default: KEYWARDEN_BACKEND, then the policy file, then local)')
    .option('--state-dir <dir>', 'with --drift: where the keystore and state live (default .keywarden)')
    .option('--keystore <file>', 'with --drift, local: the keystore file')
    .option('--region <region>', 'with --drift, aws-kms: the region')
    .option('--endpoint <url>', 'with --drift, aws-kms: a custom endpoint (VPC endpoint, moto)')
    .action(async (target: string, flags: CheckFlags) => {
      try {
        const root = path.resolve(cwd, target);
        const out = flags.output ? prepareOutputFile(flags.output, cwd, { what: 'check report (-o)', root }) : undefined;
        let latest = await collect(root, flags, cwd, io);
        if (flags.fix) {
          const fixes = await applyFixes(latest);
          // The files changed: what they declare now is checked (and compared with the KMS).
          if (fixes.fixed.length > 0) latest = await collect(root, flags, cwd, io);
          io.stderr(fixLines(fixes));
        }
        const report = flags.drift ? await withDrift(latest, flags, root, io) : latest.report;
        const text = flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : flags.format === 'sarif' ? formatCheckSarif(report) : formatCheckText(report);
        if (out) out.write(text);
        else io.stdout(text);
        if (out && flags.format === 'text') io.stderr(summaryLine(report));
        setExit(report.violations.length > 0 || (report.drift?.length ?? 0) > 0 ? EXIT.FOUND : EXIT.OK);
      } catch (e) {
        if (e instanceof PolicyError) {
          io.stderr(e.problems.map((p) => `${p.location?.file ?? ''}:${p.location?.line ?? 1}:${p.location?.column ?? 1}: ${p.message}\n`).join(''));
          setExit(EXIT.USAGE);
          return;
        }
        throw e;
      }
    });
}

/** Lists, reads, inspects and judges. Exported for tests and the SDK. */
export async function runCheck(root: string, flags: Pick<CheckFlags, 'policy' | 'policies'>, cwd: string, io: Pick<CliIO, 'env'> = {}): Promise<CheckReport> {
  return (await collect(root, flags, cwd, io)).report;
}

/**
 * Reads the live inventory of the configured backend (the policy file's `backend:` block, the
 * flags and the environment, as `keys list`) and compares the declared keys with it.
 */
async function withDrift(c0: Collected, flags: CheckFlags, root: string, io: Pick<CliIO, 'env' | 'cwd'>): Promise<CheckReport> {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  // Only --drift reads a backend: the composition root (backends, stores) loads for it alone.
  const [{ compose }, { compareDrift }] = await Promise.all([import('../../compose.js'), import('../../inspect/drift.js')]);
  const c = compose({ cwd: root, env, actor: 'cli:check', backend: backendSettingsOf(flags), policyFile: c0.policyFile ?? false, ...(flags.stateDir ? { stateDir: path.resolve(cwd, flags.stateDir) } : {}) });
  try {
    const { backend } = await c.backend();
    const r = compareDrift(c0.facts.filter((f): f is KeyFact | KeyRefFact => f.kind === 'key' || f.kind === 'key-ref'), await backend.inventory(), backend.name);
    const report = c0.report;
    return { ...report, drift: r.drift, summary: { ...report.summary, drift: { backend: backend.name, compared: r.compared, unmatched: r.unmatched } } };
  } finally {
    await c.close();
  }
}

/** Plans the fixes of `--fix` and writes the files they change (never through a symlink). */
async function applyFixes(c: Collected): Promise<ConfigFixResult> {
  const { planConfigFixes } = await import('../../remediate/fix-config.js');
  const keyFacts = c.facts.filter((f): f is KeyFact => f.kind === 'key');
  const plan = planConfigFixes(new Map(c.inputs.map((i) => [i.path, i.text])), keyFacts, c.report.violations, c.ast);
  const written = new Set<string>();
  for (const [rel, text] of plan.files) {
    // Never through a symlink, never a FIFO (O_NONBLOCK: no wait for a reader), and only the file
    // that was read (same inode), truncated only once that is known.
    const target = c.read.get(rel);
    if (!target) continue;
    let fd: number;
    try {
      fd = openSync(target.path, constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    } catch {
      continue;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.ino !== target.ino || st.dev !== target.dev) continue;
      ftruncateSync(fd, 0);
      writeSync(fd, text, 0);
      written.add(rel);
    } finally {
      closeSync(fd);
    }
  }
  return { ...plan, files: new Map([...plan.files].filter(([rel]) => written.has(rel))), fixed: plan.fixed.filter((f) => written.has(f.file)) };
}

function fixLines(r: ConfigFixResult): string {
  const lines = [
    ...r.fixed.map((f) => `fixed    ${f.file}:${f.line}  ${f.key}  ${f.change}  (${f.rule})`),
    ...r.skipped.map((f) => `not fixed  ${f.file}:${f.line}  ${f.key}  ${f.rule}: ${f.reason}`),
    `${r.fixed.length} fix${r.fixed.length === 1 ? '' : 'es'} applied in ${r.files.size} file${r.files.size === 1 ? '' : 's'}${r.skipped.length ? `, ${r.skipped.length} left for a person` : ''}`,
  ];
  return lines.map((l) => `${escapeName(l)}\n`).join('');
}

/** Where a configuration file was read from: the path as opened and the file's identity. */
interface ReadAt {
  path: string | Buffer;
  ino: number;
  dev: number;
}

/** What one pass read and judged: the report, and what `--fix` needs to edit the files. */
interface Collected {
  report: CheckReport;
  inputs: InspectFileInput[];
  facts: Fact[];
  ast: PolicyAst;
  /** The policy file judged by (absolute), or undefined for the built-in default. */
  policyFile: string | undefined;
  read: Map<string, ReadAt>;
}

async function collect(root: string, flags: Pick<CheckFlags, 'policy' | 'policies'>, cwd: string, io: Pick<CliIO, 'env'>): Promise<Collected> {
  if (!existsSync(root)) throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `${path.relative(cwd, root) || root} does not exist.`, { fault: 'user', hint: 'Pass a folder of the repository to check.' });
  const files: string[] = [];
  const inputs: InspectFileInput[] = [];
  const problems: Problem[] = [];
  const readFrom = new Map<string, ReadAt>();
  let skipped = 0;
  for await (const batch of listTree(root)) {
    for (const e of batch) {
      if (e.ignored) continue;
      files.push(e.rel);
      if (!CONFIG_FILE.test(e.rel)) continue;
      if (inputs.length >= MAX_CONFIG_FILES) {
        skipped++;
        continue;
      }
      const read = readConfigText(e.abs);
      if (read === 'skip') skipped++;
      else if (read === 'too-large')
        problems.push({ code: ProblemCode.FILE_TOO_LARGE, file: e.rel, line: 1, column: 1, message: `${e.rel} is larger than ${MAX_CONFIG_BYTES} bytes; it was not checked.` });
      else {
        inputs.push({ path: e.rel, text: read.text });
        readFrom.set(e.rel, read.at);
      }
    }
  }
  const policyFile = flags.policy ?? (existsSync(path.join(root, DEFAULT_POLICY_FILE)) ? path.join(root, DEFAULT_POLICY_FILE) : undefined);
  const ast: PolicyAst = policyFile ? await readPolicy(policyFile, { cwd }) : defaultPolicy();
  // Custom Rego (as `policy eval`): the modules see the same input, facts included.
  const regoDir = flags.policies ? path.resolve(cwd, flags.policies) : existsSync(path.join(root, 'policies')) && lstatSync(path.join(root, 'policies')).isDirectory() ? path.join(root, 'policies') : undefined;
  if (flags.policies && !existsSync(regoDir!)) throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `The policies folder ${flags.policies} does not exist.`, { fault: 'user', hint: 'Pass an existing folder to --policies.' });
  const modules = regoDir ? await readRegoModules(regoDir, { cwd }) : [];
  const engine = await createPolicyEngine({ ast, modules, runner: findOpaRunner({ env: io.env ?? process.env }), cacheDir: defaultCacheDir(io.env ?? process.env), incremental: false });
  const judged = judgeConfig(engine, { inputs, files, problems, now: new Date().toISOString() });
  const report: CheckReport = {
    violations: judged.violations,
    problems: judged.problems,
    summary: {
      files: files.length,
      configFiles: inputs.length,
      keys: judged.counts.keys,
      secretRefs: judged.counts.secretRefs,
      unknown: judged.counts.unknown,
      skipped,
      policy: policyFile ? path.relative(cwd, policyFile) || policyFile : 'keywarden:default',
    },
  };
  return { report, inputs, facts: judged.facts, ast, policyFile: policyFile ? path.resolve(cwd, policyFile) : undefined, read: readFrom };
}

/** A regular file's text, read without following a symlink; 'skip' for anything else. */
function readConfigText(abs: string): { text: string; at: ReadAt } | 'skip' | 'too-large' {
  const target = fsPathOf(abs);
  if ('skip' in target) return 'skip';
  try {
    const lst = lstatSync(target.path, { throwIfNoEntry: false });
    if (!lst || !lst.isFile()) return 'skip';
    if (lst.size > MAX_CONFIG_BYTES) return 'too-large';
    const fd = openSync(target.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.ino !== lst.ino) return 'skip';
      if (st.size > MAX_CONFIG_BYTES) return 'too-large';
      return { text: readFdText(fd, st.size), at: { path: target.path, ino: st.ino, dev: st.dev } };
    } finally {
      closeSync(fd);
    }
  } catch {
    return 'skip';
  }
}

const where = violationAt;

function summaryLine(r: CheckReport): string {
  const s = r.summary;
  const unknown = Object.values(s.unknown).reduce((a, b) => a + b, 0);
  const parts = [
    `${s.keys} key${s.keys === 1 ? '' : 's'} and ${s.secretRefs} secret reference${s.secretRefs === 1 ? '' : 's'} in ${s.configFiles} configuration file${s.configFiles === 1 ? '' : 's'}`,
    `policy ${s.policy}`,
    ...(unknown > 0 ? [`${unknown} unresolved value${unknown === 1 ? '' : 's'} not judged`] : []),
    ...(r.problems.length > 0 ? [`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`] : []),
    ...(s.skipped > 0 ? [`${s.skipped} skipped`] : []),
    ...(s.drift ? [`${s.drift.compared} key${s.drift.compared === 1 ? '' : 's'} compared with ${s.drift.backend}${s.drift.unmatched ? ` (${s.drift.unmatched} not comparable: no alias to match by, or not a key of this backend)` : ''}`] : []),
  ];
  const drift = r.drift?.length ?? 0;
  const head = r.violations.length > 0 || drift > 0 ? `✖ ${[...(r.violations.length ? [`${r.violations.length} violation${r.violations.length === 1 ? '' : 's'}`] : []), ...(drift ? [`${drift} drift`] : [])].join(', ')}` : '✔ no violations';
  return `${head} · ${parts.join(' · ')}\n`;
}

export function formatCheckText(r: CheckReport): string {
  const lines: string[] = [];
  for (const v of r.violations) {
    const w = where(v);
    lines.push(`${w.file ?? '-'}:${w.line ?? 1}  ${v.severity}  ${v.rule}  ${v.message}  (policy ${v.policy.file}:${v.policy.line}:${v.policy.column})`);
  }
  for (const d of r.drift ?? []) lines.push(`${d.file}:${d.line}  drift  ${d.kind}  ${d.message}  (declared ${d.declared}, live ${d.live})`);
  for (const p of r.problems) lines.push(`${p.file}:${p.line}:${p.column}  problem  ${p.code}  ${p.message}`);
  // Names and messages carry repository text: a resource named "x\nok.tf:1 …" must not forge a line.
  return `${lines.map((l) => `${escapeName(l)}\n`).join('')}${summaryLine(r)}`;
}

const LEVEL: Record<string, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };

/** SARIF 2.1.0 for code scanning: one result per violation at its file and line, problems as notifications. */
export function formatCheckSarif(r: CheckReport): string {
  const drift = (r.drift ?? []).map((d) => ({ rule: `drift/${d.kind}`, text: `${d.message} (declared ${d.declared}, live ${d.live})`, file: d.file, line: d.line }));
  const rules = [...new Set([...r.violations.map((v) => v.rule), ...drift.map((d) => d.rule)])].sort();
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'keywarden-check', informationUri: 'https://keywarden.dev', rules: rules.map((id) => ({ id, shortDescription: { text: id } })) } },
        results: r.violations.map((v) => {
          const w = where(v);
          return {
            ruleId: v.rule,
            level: LEVEL[v.severity] ?? 'warning',
            message: { text: `${v.message} (policy ${v.policy.file}:${v.policy.line})` },
            locations: [{ physicalLocation: { artifactLocation: { uri: fileUri(w.file ?? '.') }, region: { startLine: w.line ?? 1 } } }],
          };
        }).concat(drift.map((d) => ({ ruleId: d.rule, level: 'error' as const, message: { text: d.text }, locations: [{ physicalLocation: { artifactLocation: { uri: fileUri(d.file) }, region: { startLine: d.line } } }] }))),
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: r.problems.map((p) => ({
              level: 'warning',
              message: { text: `${p.code}: ${p.message}` },
              locations: [{ physicalLocation: { artifactLocation: { uri: fileUri(p.file) }, region: { startLine: p.line, startColumn: p.column } } }],
            })),
          },
        ],
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
