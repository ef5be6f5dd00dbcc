/**
 * `keywarden hook run pre-commit|pre-push`: what an installed hook runs. Scans what the commit
 * records (the index against HEAD) or what the push sends (every pushed commit's added lines),
 * blocks when something is found, and lets a recorded bypass through.
 *
 * Security properties:
 * - the detection settings come from HEAD (pre-commit) or from the pushed range's base
 *   (pre-push), never from the changes being judged (see staged-settings.ts);
 * - the pre-push input is untrusted: every object id is checked before git sees it, refs are
 *   only printed (escaped);
 * - output is the scan's redacted text report; a bypass records fingerprints, never a secret.
 */
import path from 'node:path';
import { gitTopLevel, runGit } from '../git/run-git.js';
import type { SecretsConfig } from '../policy/dsl/secrets.js';
import { readSecretsAtRevision } from '../policy/secrets-at-revision.js';
import { escapeName, formatText } from '../scan/format/text.js';
import { compareFindings, scan, type ScanOptions } from '../scan/scan.js';
import type { DetectorSelection } from '../scan/select-detectors.js';
import { revParseCommit, type GitRange } from '../scan/sources/git.js';
import type { Finding, ScanResult, ScanWarning } from '../scan/types.js';
import type { HookName } from './names.js';
import { assertObjectId, isZeroId, MAX_PRE_PUSH_INPUT, parsePrePushInput, type PushUpdate } from './pre-push-input.js';
import { ErrorCode, KeywardenError } from '../errors.js';
import { readSecretsAtStaged, resolveStagedSettingsBase } from './staged-settings.js';

export interface HookRunIO {
  /** The folder git runs the hook in (the work tree's top). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadableStream;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  color: boolean;
  workers?: number;
}

/** The scan options a policy's `secrets:` block gives (detectors, ignored paths). */
function settingsOptions(policy: SecretsConfig | undefined): Pick<ScanOptions, 'detectors' | 'ignorePaths'> {
  const detectors: DetectorSelection = {
    ...(policy && !policy.presets.includes('none') ? { include: policy.presets } : {}),
    ...(policy?.custom.length ? { custom: policy.custom } : {}),
    ...(policy?.presets.includes('none') ? { builtins: false } : {}),
  };
  return { detectors, ...(policy?.ignorePaths.length ? { ignorePaths: policy.ignorePaths } : {}) };
}

function printWarnings(warnings: readonly ScanWarning[], io: HookRunIO): void {
  for (const w of warnings.slice(0, 20)) io.stderr(`keywarden: warning: ${w.message} [${w.code}]\n`);
  if (warnings.length > 20) io.stderr(`keywarden: … and ${warnings.length - 20} more warnings.\n`);
}

/** pre-commit: what the index adds against HEAD. */
export async function runPreCommitHook(io: HookRunIO): Promise<number> {
  const top = await gitTopLevel(io.cwd);
  const indexFile = io.env.GIT_INDEX_FILE ? path.resolve(io.cwd, io.env.GIT_INDEX_FILE) : undefined;
  const at = await resolveStagedSettingsBase(top, indexFile);
  const settings = await readSecretsAtStaged(at);
  const result = await scan({
    path: top,
    git: { staged: true, ...(indexFile ? { indexFile } : {}) },
    ...settingsOptions(settings.config),
    ...(io.workers !== undefined ? { workers: io.workers } : {}),
  });
  if (settings.warning) result.warnings.unshift(settings.warning);
  return decide('pre-commit', result, [at.head ?? ''], top, io);
}

async function readInput(stdin: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stdin || (stdin as { isTTY?: boolean }).isTTY) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stdin as AsyncIterable<Buffer | string>) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    size += b.length;
    if (size > MAX_PRE_PUSH_INPUT) {
      throw new KeywardenError(ErrorCode.HOOK_INPUT_INVALID, `The pre-push input is larger than ${MAX_PRE_PUSH_INPUT} bytes; the push was stopped.`, { fault: 'user' });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The updates to judge: git's stdin, or (the pre-commit framework reads stdin itself) the
 * PRE_COMMIT_FROM_REF / PRE_COMMIT_TO_REF it sets.
 */
function frameworkUpdate(env: NodeJS.ProcessEnv): PushUpdate[] {
  const to = env.PRE_COMMIT_TO_REF;
  if (!to) return [];
  const from = env.PRE_COMMIT_FROM_REF;
  return [
    {
      localRef: env.PRE_COMMIT_LOCAL_BRANCH || 'HEAD',
      localSha: assertObjectId(to, 'PRE_COMMIT_TO_REF'),
      remoteRef: env.PRE_COMMIT_REMOTE_BRANCH || '(unknown)',
      remoteSha: from ? assertObjectId(from, 'PRE_COMMIT_FROM_REF') : '0'.repeat(to.length),
    },
  ];
}

/** The tips of every remote-tracking ref (already pushed somewhere). */
async function remoteTips(top: string): Promise<string[]> {
  const r = await runGit(top, ['for-each-ref', '--format=%(objectname)', 'refs/remotes/'], { maxStdout: 64 * 1024 * 1024 });
  if (r.code !== 0) return [];
  return [...new Set(r.stdout.toString('utf8').split('\n').filter((l) => /^[0-9a-f]{40,64}$/.test(l)))];
}

/**
 * The range a ref update sends: `remote..local` when the remote's commit is known here; for a new
 * branch (or an unknown remote commit) every commit of `local` that no remote-tracking ref has,
 * the whole history when there is no remote. Undefined: nothing new is sent.
 */
async function pushRange(top: string, u: PushUpdate, tips: () => Promise<string[]>): Promise<GitRange | undefined> {
  const local = await revParseCommit(top, u.localSha);
  if (!local) return undefined; // a tag of a tree or a blob: no commit to scan
  const remote = isZeroId(u.remoteSha) ? undefined : await revParseCommit(top, u.remoteSha);
  if (remote) return { args: [`${remote}..${local}`], base: remote, head: local };
  const args = [local, ...(await tips()).map((t) => `^${t}`)];
  const r = await runGit(top, ['rev-list', '--reverse', '--topo-order', '--end-of-options', ...args, '--'], { maxStdout: 256 * 1024 * 1024 });
  const oldest = r.code === 0 ? r.stdout.toString('utf8').split('\n', 1)[0] : '';
  if (!oldest || !/^[0-9a-f]{40,64}$/.test(oldest)) return undefined;
  // The settings of the commit the new commits grow from; none for a root commit.
  return { args, base: await revParseCommit(top, `${oldest}^1`), head: local };
}

/** pre-push: every commit each updated ref sends. */
export async function runPrePushHook(io: HookRunIO): Promise<number> {
  const top = await gitTopLevel(io.cwd);
  const input = await readInput(io.stdin);
  let updates = parsePrePushInput(input);
  if (updates.length === 0) updates = frameworkUpdate(io.env);
  let tipsCache: Promise<string[]> | undefined;
  const tips = (): Promise<string[]> => (tipsCache ??= remoteTips(top));
  const results: ScanResult[] = [];
  const pushed: string[] = [];
  for (const u of updates) {
    if (isZeroId(u.localSha)) continue; // a deletion sends no content
    const range = await pushRange(top, u, tips);
    if (!range) continue;
    pushed.push(range.head);
    const settings = await readSecretsAtRevision(top, range.base, range.head);
    const r = await scan({
      path: top,
      git: { range },
      ...settingsOptions(settings.config),
      ...(io.workers !== undefined ? { workers: io.workers } : {}),
    });
    if (settings.warning) r.warnings.unshift(settings.warning);
    if (r.findings.length) io.stderr(`keywarden: ${escapeName(u.localRef)} → ${escapeName(u.remoteRef)}: ${r.findings.length} finding(s) in ${r.summary.commits ?? 0} commit(s).\n`);
    results.push(r);
  }
  return decide('pre-push', merge(results), pushed, top, io);
}

/** One report for several ranges; a finding two refs share is shown once. */
function merge(results: ScanResult[]): ScanResult {
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const r of results) {
    for (const f of r.findings) {
      const k = `${f.commit ?? ''}\0${f.file}\0${f.startLine}\0${f.ruleId}\0${f.fingerprint}`;
      if (seen.has(k)) continue;
      seen.add(k);
      findings.push(f);
    }
  }
  const skippedBy: ScanResult['summary']['skippedBy'] = {};
  for (const r of results) for (const [k, n] of Object.entries(r.summary.skippedBy)) skippedBy[k as keyof typeof skippedBy] = (skippedBy[k as keyof typeof skippedBy] ?? 0) + (n ?? 0);
  const sum = (f: (r: ScanResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  return {
    findings: findings.sort(compareFindings),
    skipped: results.flatMap((r) => r.skipped),
    warnings: results.flatMap((r) => r.warnings),
    summary: {
      files: sum((r) => r.summary.files),
      bytes: sum((r) => r.summary.bytes),
      findings: findings.length,
      suppressed: sum((r) => r.summary.suppressed),
      skipped: sum((r) => r.summary.skipped),
      skippedBy,
      commits: sum((r) => r.summary.commits ?? 0),
      durationMs: sum((r) => r.summary.durationMs),
    },
  };
}

async function decide(hook: HookName, result: ScanResult, shas: string[], top: string, io: HookRunIO): Promise<number> {
  printWarnings(result.warnings, io);
  if (result.findings.length === 0) return 0;
  io.stdout(formatText(result, { color: io.color }));
  const what = hook === 'pre-push' ? 'push' : 'commit';
  const raw = io.env.KEYWARDEN_BYPASS;
  if (raw === undefined) {
    io.stderr(blockedMessage(hook, result.findings.length));
    return 1;
  }
  // Loaded only for a bypass: it opens the backend's audit log (SQLite, the keystore).
  const { parseBypassReason, recordBypass } = await import('./bypass.js');
  const reason = await parseBypassReason(raw);
  if (!reason.ok) {
    io.stderr(`keywarden: ${what} blocked: ${reason.message} [${ErrorCode.BYPASS_REASON_INVALID}]\n`);
    return 1;
  }
  const done = await recordBypass({ hook, reason: reason.reason, findings: result.findings, shas, top, env: io.env });
  io.stderr(
    `keywarden: ${what} let through by KEYWARDEN_BYPASS; recorded as audit record ${done.record.seq} (${done.backend} backend) with ${new Set(result.findings.map((f) => f.fingerprint)).size} fingerprint(s).\n`,
  );
  return 0;
}

function blockedMessage(hook: HookName, n: number): string {
  const lines =
    hook === 'pre-commit'
      ? [
          `keywarden: commit blocked: ${n} secret(s) in the staged changes.`,
          '  Fix: take the secret out of the file (read it from the environment or a secret store), then git add the file again.',
          '  A key that ever left this machine is leaked: revoke or rotate it as well.',
        ]
      : [
          `keywarden: push blocked: ${n} secret(s) in the commits being pushed.`,
          '  Fix: rewrite the commits that added them (git commit --amend, or git rebase -i), then push again;',
          '  a key that was ever pushed anywhere is leaked: revoke or rotate it as well.',
        ];
  lines.push(
    '  Not a secret: mark the line with a keywarden:allow comment.',
    `  Bypass (recorded in the audit log): KEYWARDEN_BYPASS="why this is safe" git ${hook === 'pre-push' ? 'push' : 'commit'} …`,
    '',
  );
  return lines.join('\n');
}
