/**
 * `keywarden respond [PATH] [--git A..B | --staged]`: the whole pipeline on a local repository —
 * find, decide (with the policy line), revoke, rotate, and commit the remediation patch on a new
 * branch `keywarden/remediate-<fingerprint>` (never the current branch; the work tree and the
 * index are not touched). Thin: flags → compose → runPipeline → present.
 *
 * Exit codes: 0 nothing found, 1 found and every step done, 4 acted but some step failed,
 * 2 usage or configuration, 3 failure.
 */
import { userInfo } from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { compose } from '../../compose.js';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { DEFAULT_POLICY_FILE } from '../../policy/default-file.js';
import { VISIBILITIES, type Visibility } from '../../policy/dsl/ast.js';
import { runPipeline, type PipelineSource } from '../../pipeline/run.js';
import type { PipelineReport, StepResult, Target } from '../../pipeline/types.js';
import { escapeName } from '../../scan/format/text.js';
import { SqliteStepStore } from '../../store/steps.js';
import { backendSettingsOf } from '../backend-flags.js';
import type { CliIO } from '../main.js';
import { crashHook } from '../../pipeline/crash-hook.js';
import { ExitCode } from '../main.js';
import { parseSize } from './scan.js';

interface RespondFlags {
  git?: string;
  staged?: boolean;
  dryRun?: boolean;
  format: 'text' | 'json';
  config?: string | false;
  baseline?: string;
  backend?: string;
  stateDir?: string;
  keystore?: string;
  region?: string;
  endpoint?: string;
  pkcs11Library?: string;
  pkcs11Token?: string;
  actor?: string;
  visibility?: string;
  maxFileSize?: string;
  workers?: string;
}

export function registerRespondCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('respond')
    .description('Find leaked secrets, then do what the policy demands: revoke, rotate, and commit a remediation patch on a new branch.')
    .argument('[path]', 'the repository', '.')
    .option('--git <range>', 'only what a revision range adds, e.g. origin/main..HEAD (judged by the policy of its base)')
    .option('--staged', 'only what the index adds against HEAD (judged by the policy at HEAD); no patch is committed')
    .option('--dry-run', 'print the plan and change nothing: no backend call, no commit')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('-c, --config <file>', `the key policy (default: ${DEFAULT_POLICY_FILE}, if present; else the built-in default)`)
    .option('--no-config', 'ignore the policy file: the built-in default policy applies')
    .option('--baseline <file>', 'accept the findings recorded in this baseline file (read at the base revision when tracked)')
    .option('--backend <kind>', 'local, aws-kms or pkcs11 (default: KEYWARDEN_BACKEND, then the policy, then local)')
    .option('--state-dir <dir>', 'where the keystore, the step store and the audit log live (default .keywarden)')
    .option('--keystore <file>', 'local: the keystore file')
    .option('--region <region>', 'aws-kms: the region')
    .option('--endpoint <url>', 'aws-kms: a custom endpoint (VPC endpoint, moto)')
    .option('--pkcs11-library <path>', 'pkcs11: the PKCS#11 module')
    .option('--pkcs11-token <label>', 'pkcs11: the token label')
    .option('--actor <name>', 'who is acting; recorded in the audit log (default: the OS user)')
    .addOption(new Option('--visibility <v>', 'the repository visibility the policy sees').choices([...VISIBILITIES]).default('private'))
    .option('--max-file-size <size>', 'skip files larger than this', '50MB')
    .option('--workers <n>', 'scan worker threads')
    .action(async (target: string, flags: RespondFlags) => {
      setExit(await runRespond(target, flags, io));
    });
}

async function runRespond(target: string, flags: RespondFlags, io: CliIO): Promise<number> {
  if (flags.git !== undefined && flags.staged) throw new KeywardenError(ErrorCode.USAGE, 'Use only one of --git and --staged.', { fault: 'user' });
  const cwd = io.cwd ?? process.cwd();
  const env = io.env ?? process.env;
  const root = path.resolve(cwd, target);
  const backend = backendSettingsOf(flags);
  const c = compose({
    cwd: root,
    env,
    actor: flags.actor ?? `cli:${safeUser()}`,
    backend,
    ...(flags.stateDir ? { stateDir: path.resolve(cwd, flags.stateDir) } : {}),
    ...(flags.config === false ? { policyFile: false as const } : flags.config ? { policyFile: path.relative(root, path.resolve(cwd, flags.config)) } : {}),
  });
  const source: PipelineSource = flags.git !== undefined ? { kind: 'range', range: flags.git } : flags.staged ? { kind: 'staged' } : { kind: 'tree' };
  try {
    const cfg = await c.backendConfig();
    const steps = SqliteStepStore.open(path.join(cfg.stateDir, 'pipeline.db'));
    try {
      const report = await runPipeline(
        {
          path: root,
          source,
          dryRun: Boolean(flags.dryRun),
          ...(flags.baseline ? { baseline: path.relative(root, path.resolve(cwd, flags.baseline)) } : {}),
          repo: { name: path.basename(root), visibility: (flags.visibility ?? 'private') as Visibility },
          scan: {
            maxFileSize: parseSize(flags.maxFileSize ?? '50MB'),
            ...(flags.workers !== undefined ? { workers: Number(flags.workers) } : {}),
          },
        },
        { composition: c, steps, ...crashHook(env) },
      );
      io.stdout(flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, cwd, root));
      for (const w of report.warnings.slice(0, 20)) io.stderr(`keywarden: warning: ${escapeName(w.message)} [${w.code}]\n`);
      if (!report.findings.length) return ExitCode.OK;
      return report.steps.some((s) => s.status === 'failed') ? ExitCode.PARTIAL : ExitCode.FOUND;
    } finally {
      await steps.close();
    }
  } finally {
    await c.close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function describeTarget(t: Target): string {
  if (t.kind === 'none') return `not revocable automatically: ${t.why}`;
  if (t.kind === 'credential') return `${t.provider} credential${t.credentialId ? ` ${t.credentialId}` : ''}${t.subtype ? ` (${t.subtype})` : ''}`;
  const alias = t.aliases.length ? ` (${t.aliases.join(', ')})` : '';
  return `${t.backend} key ${t.keyId}${alias}${t.version !== undefined ? ` version ${t.version}` : ''}, matched by its ${t.how === 'material' ? 'key material' : 'public key'}`;
}

const MARK: Record<StepResult['status'], string> = { done: '✓', failed: '✗', skipped: '-', planned: '·' };

function formatReport(r: PipelineReport, cwd: string, root: string): string {
  const out: string[] = [];
  const files = new Set(r.findings.map((f) => f.finding.file)).size;
  const where = path.relative(cwd, root) || '.';
  if (!r.findings.length) return `keywarden respond: no secrets found in ${where} (${r.source}; ${r.summary.files} files).\n`;
  out.push(`keywarden respond: ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'} (${where}, ${r.source})${r.dryRun ? ' — dry run, nothing changed' : ''}`, '');
  const rules = new Map<string, string>();
  for (const a of r.decision.actions) {
    if (a.subject.kind !== 'finding' || !a.subject.fingerprint) continue;
    const at = a.policy.file ? `${a.policy.file}:${a.policy.line ?? 1}` : a.policy.path;
    const key = a.subject.fingerprint;
    const prev = rules.get(key);
    const line = `${a.rule} (${at})`;
    if (!prev?.includes(line)) rules.set(key, prev ? `${prev}; ${line}` : line);
  }
  for (const f of r.findings) {
    const x = f.finding;
    // A preview is cut from the secret as found: it may hold ESC, a C1 control or a bidi override.
    out.push(`  ${escapeName(x.file)}:${x.startLine}:${x.startColumn}  ${escapeName(x.ruleId)}  ${escapeName(x.redacted)}  ${x.fingerprint.slice(0, 19)}`);
    out.push(`      what:   ${escapeName(describeTarget(f.target))}`);
    out.push(`      policy: ${f.actions.length ? `${f.actions.join(', ')} ← ${escapeName(rules.get(x.fingerprint) ?? '')}` : 'no action demanded'}`);
  }
  out.push('');
  if (r.steps.length) {
    out.push(r.dryRun ? 'Plan' : 'Steps');
    for (const s of r.steps) {
      const tail = s.status === 'failed' ? `failed: ${s.detail} [${s.code ?? ''}]` : s.status === 'planned' ? '' : `${s.detail}${s.replayed ? ' (replayed)' : ''}`;
      out.push(`  ${MARK[s.status]} ${escapeName(s.step.title)}${tail ? `\n      ${escapeName(tail)}` : ''}`);
    }
    out.push('');
  }
  if (r.notDone.length) {
    out.push('Not done here');
    const seen = new Set<string>();
    for (const n of r.notDone) {
      // Two findings of one credential (an AWS key ID and its secret) are said once.
      const t = r.findings.find((x) => x.finding.fingerprint === n.fingerprint)?.target;
      const k = `${t && t.kind !== 'none' ? JSON.stringify(t) : n.fingerprint}:${n.action}:${n.reason}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const f = r.findings.find((x) => x.finding.fingerprint === n.fingerprint)?.finding;
      out.push(`  - ${n.action} ${f ? `${escapeName(f.redacted)} (${escapeName(f.file)}:${f.startLine})` : n.fingerprint.slice(0, 19)}: ${escapeName(n.reason)}`);
    }
    out.push('');
  }
  if (r.patch) {
    out.push(`Remediation branch: ${r.patch.branch} (${r.patch.commit.slice(0, 12)}), ${r.patch.files.length} file(s):`);
    for (const f of r.patch.files) out.push(`  ${f.action.padEnd(6)} ${escapeName(f.path)}${f.method ? ` (${f.method})` : ''}`);
    if (r.patch.envVars.length) out.push(`  the code now reads: ${r.patch.envVars.join(', ')} (listed in .env.example)`);
    out.push(`  review: git diff ${r.patch.base.slice(0, 12)} ${r.patch.branch}`, `  merge:  git switch ${r.patch.branch}`);
    out.push('  The secret remains in git history; REMEDIATION.md on the branch says how to rewrite it, if you want to.', '');
  }
  return `${out.join('\n')}\n`;
}
