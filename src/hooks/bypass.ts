/**
 * A recorded bypass: `KEYWARDEN_BYPASS="reason"` lets a blocked commit or push through, and the
 * audit log of the configured backend gets a `hook-bypass` record with the findings'
 * fingerprints (never a secret), the hook, the commits and the git user.
 *
 * Security property: a bypass is never unrecorded. When the record cannot be written (the local
 * keystore's log is signed with a key derived from its passphrase, so without
 * KEYWARDEN_LOCAL_PASSPHRASE or KEYWARDEN_LOCAL_KEK nothing can be appended to it; a full disk;
 * a log that fails its own check) the bypass is refused with `KW_BYPASS_NOT_RECORDED` and the
 * commit or push stays blocked. No second, weaker log is written instead: a record there would
 * not be covered by the keystore's signed checkpoints that `keywarden audit verify` checks.
 */
import { existsSync } from 'node:fs';
import { compose } from '../compose.js';
import { ErrorCode, KeywardenError, isKeywardenError } from '../errors.js';
import { runGit } from '../git/run-git.js';
import { openAuditLogFor, type ResolvedBackendConfig } from '../backends/open-backend.js';
import { LocalBackend, readLocalKekFromEnv } from '../backends/local.js';
import type { AuditRecord } from '../store/audit.js';
import { ensureStateDir } from '../store/state-dir.js';
import { scan } from '../scan/scan.js';
import type { Finding } from '../scan/types.js';
import path from 'node:path';
import type { HookName } from './names.js';

const MIN_REASON = 3;
const MAX_REASON = 500;
// C0 and C1 controls, DEL, line and paragraph separators, bidirectional marks and overrides.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export type BypassReason = { ok: true; reason: string } | { ok: false; message: string };

/** The reason as recorded: control characters stripped (each becomes a space), spaces collapsed, trimmed. */
export function cleanReason(raw: string): string {
  return raw.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

/** Checks `KEYWARDEN_BYPASS`: a reason of 3 to 500 characters, holding no secret. */
export async function parseBypassReason(raw: string): Promise<BypassReason> {
  const reason = cleanReason(raw);
  const n = [...reason].length;
  if (n < MIN_REASON) return { ok: false, message: `A bypass needs a reason of at least ${MIN_REASON} characters: KEYWARDEN_BYPASS="why this is safe".` };
  if (n > MAX_REASON) return { ok: false, message: `The bypass reason is ${n} characters long; keep it to ${MAX_REASON}.` };
  // The reason is stored for good: it must not become the leak.
  const r = await scan({ content: { bytes: Buffer.from(reason), file: 'KEYWARDEN_BYPASS' }, workers: 0, inlineAllow: false });
  if (r.findings.length) return { ok: false, message: 'The bypass reason looks like it holds a secret; it was not recorded. Describe why instead.' };
  return { ok: true, reason };
}

/** The git user, as git would name the committer (Keywarden's own git reads no global config). */
async function gitUserEmail(top: string, env: NodeJS.ProcessEnv): Promise<string> {
  const clean = (s: string | undefined): string => (s ?? '').replace(CONTROL, '').trim().slice(0, 320);
  if (clean(env.GIT_COMMITTER_EMAIL)) return clean(env.GIT_COMMITTER_EMAIL);
  const files: (string | undefined)[] = [undefined];
  const xdg = env.XDG_CONFIG_HOME || (env.HOME ? path.join(env.HOME, '.config') : undefined);
  if (xdg) files.push(path.join(xdg, 'git', 'config'));
  if (env.HOME) files.push(path.join(env.HOME, '.gitconfig'));
  for (const f of files) {
    if (f !== undefined && !existsSync(f)) continue;
    const r = await runGit(top, ['config', ...(f ? ['--file', f] : []), '--get', 'user.email'], { maxStdout: 4096 }).catch(() => undefined);
    const v = r?.code === 0 ? clean(r.stdout.toString('utf8')) : '';
    if (v) return v;
  }
  return clean(env.EMAIL) || 'unknown';
}

export interface BypassRecord {
  hook: HookName;
  reason: string;
  findings: readonly Finding[];
  /** HEAD for pre-commit (empty before the first commit), the pushed tips for pre-push. */
  shas: readonly string[];
  top: string;
  env: NodeJS.ProcessEnv;
}

function notRecorded(cfg: ResolvedBackendConfig | undefined, cause: unknown, what: string): KeywardenError {
  const code = isKeywardenError(cause) ? cause.code : undefined;
  const locked = code === ErrorCode.KEYSTORE_LOCKED;
  return new KeywardenError(
    ErrorCode.BYPASS_NOT_RECORDED,
    locked
      ? `The bypass was not recorded: the local keystore's audit log is signed with a key from its passphrase, and KEYWARDEN_LOCAL_PASSPHRASE (or KEYWARDEN_LOCAL_KEK) is not set. The ${what} stays blocked.`
      : `The bypass could not be recorded in the ${cfg?.kind ?? 'configured'} backend's audit log${code ? ` (${code})` : ''}, so the ${what} stays blocked.`,
    {
      fault: 'config',
      cause,
      hint: locked
        ? 'Run it again with the passphrase in the environment: KEYWARDEN_LOCAL_PASSPHRASE=… KEYWARDEN_BYPASS="why" git …'
        : 'Fix the audit log (keywarden audit verify), or remove the secret instead of bypassing.',
      details: { ...(code ? { cause: code } : {}), ...(cfg ? { backend: cfg.kind } : {}) },
    },
  );
}

/**
 * Appends the `hook-bypass` record; throws `KW_BYPASS_NOT_RECORDED` when it cannot.
 *
 * @example
 * await recordBypass({ hook: 'pre-commit', reason: 'test fixture', findings, shas: [head], top, env: process.env });
 */
export async function recordBypass(b: BypassRecord): Promise<{ record: AuditRecord; path: string; backend: string }> {
  const what = b.hook === 'pre-push' ? 'push' : 'commit';
  let cfg: ResolvedBackendConfig | undefined;
  try {
    // The backend the repository's policy names (at HEAD's work tree), overridden by the environment.
    cfg = await compose({ cwd: b.top, env: b.env, auditOnly: true }).backendConfig();
    const user = await gitUserEmail(b.top, b.env);
    const fingerprints = [...new Set(b.findings.map((f) => f.fingerprint))].sort();
    const rules = [...new Set(b.findings.map((f) => f.ruleId))].sort();
    const input = {
      actor: user,
      backend: cfg.kind,
      operation: 'hook-bypass',
      outcome: 'succeeded' as const,
      reason: b.reason,
      details: { hook: b.hook, sha: b.shas.join(','), count: b.findings.length, fingerprints: fingerprints.join(','), rules: rules.join(','), user },
    };
    if (cfg.kind === 'local') {
      const secret = readLocalKekFromEnv(b.env);
      if (!secret.kek && !secret.passphrase) throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'The local keystore is locked.', { fault: 'config' });
      ensureStateDir(cfg.stateDir);
      const opened = openAuditLogFor(cfg, b.env, { readonly: false, needKey: false });
      if (opened.audit) {
        try {
          return { record: opened.audit.append(input), path: opened.path, backend: cfg.kind };
        } finally {
          opened.close();
        }
      }
      // No keystore yet: create it (with its signed log) and record in it.
      const local = LocalBackend.open({ path: cfg.keystore, ...secret, actor: user });
      try {
        return { record: local.auditLog.append(input), path: cfg.keystore, backend: cfg.kind };
      } finally {
        await local.close();
      }
    }
    const opened = openAuditLogFor(cfg, b.env, { readonly: false, needKey: false });
    try {
      if (!opened.audit) throw new KeywardenError(ErrorCode.AUDIT_WRITE_FAILED, 'The audit log could not be opened.', { fault: 'backend' });
      const record = opened.audit.append(input);
      opened.audit.checkpointIfMoved();
      return { record, path: opened.path, backend: cfg.kind };
    } finally {
      opened.close();
    }
  } catch (e) {
    throw notRecorded(cfg, e, what);
  }
}
