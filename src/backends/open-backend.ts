/**
 * Builds the configured backend, wrapped so every mutating verb lands in the audit log.
 *
 * One configuration, `ResolvedBackendConfig`. Precedence: explicit settings (CLI flags) over
 * environment variables over the policy's `backend:` block (validated by the policy schema: only
 * `kind` and `region`) over the default (`local`).
 *
 * What a committed policy may not say: the keystore path, the AWS endpoint and the PKCS#11 module
 * are machine settings, from flags or the environment only. A repository's file must not make
 * Keywarden load a shared library (code execution), send signed AWS requests to a host it names
 * (a replayable signature), or open a file of its choosing. Secrets — the keystore passphrase or
 * KEK and the PKCS#11 PIN — come only from the environment: flags show up in process listings.
 *
 * Where the audit log lives: the local keystore keeps it in the keystore file itself, so a key
 * operation and its record commit in one SQLite transaction (see local.ts for why an attached
 * second file would not do). Remote backends log to `<state dir>/audit.db` with intent and
 * outcome records, signed with a key derived from KEYWARDEN_AUDIT_KEY when that is set. The
 * state folder is created git-ignored before anything is written into it.
 */
import { join, resolve } from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import { existsSync } from 'node:fs';
import { AuditLog, type AuditWriter } from '../store/audit.js';
import { createCheckpointSigner, type CheckpointSigner } from '../store/checkpoint.js';
import { SqliteIdempotencyStore, type IdempotencyStore } from '../store/idempotency.js';
import { openDatabase } from '../store/sqlite.js';
import { ensureStateDir } from '../store/state-dir.js';
import { AuditedBackend } from './audited.js';
import { LocalBackend, readLocalKekFromEnv } from './local.js';

export { BACKEND_KINDS, type BackendKind } from '../model/backend-kinds.js';
import { BACKEND_KINDS, type BackendKind } from '../model/backend-kinds.js';

/** The policy's `backend:` block, as the schema allows it. */
export interface PolicyBackendBlock {
  kind: BackendKind;
  region?: string;
}

export interface BackendSettings {
  kind?: string;
  /** local: keystore file. */
  keystore?: string;
  /** aws-kms */
  region?: string;
  endpoint?: string;
  /** pkcs11 */
  library?: string;
  token?: string;
}

export interface ResolvedBackendConfig {
  kind: BackendKind;
  keystore: string;
  region?: string;
  endpoint?: string;
  library?: string;
  token?: string;
  stateDir: string;
}

/** Merges flags, environment and file; reports every problem at once. */
export function resolveBackendConfig(
  flags: BackendSettings,
  env: NodeJS.ProcessEnv,
  file: PolicyBackendBlock | undefined,
  options: { cwd: string; stateDir?: string; /** Only the audit log is wanted: backend secrets are not needed. */ auditOnly?: boolean },
): ResolvedBackendConfig {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  // Only `kind` and `region` can come from the policy file (see the module comment).
  const fromFile: Partial<Record<string, string>> = { kind: file?.kind, region: file?.region };
  const pick = (flag: string | undefined, envNames: string[], fileKey?: 'kind' | 'region'): string | undefined =>
    flag ?? envNames.map((n) => str(env[n])).find((v) => v !== undefined) ?? (fileKey ? str(fromFile[fileKey]) : undefined);
  const stateDir = resolve(options.cwd, options.stateDir ?? str(env.KEYWARDEN_STATE_DIR) ?? '.keywarden');
  const kind = pick(flags.kind, ['KEYWARDEN_BACKEND'], 'kind') ?? 'local';
  const problems: string[] = [];
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) problems.push(`unknown backend kind "${kind}" (use ${BACKEND_KINDS.join(', ')})`);
  const cfg: ResolvedBackendConfig = {
    kind: kind as BackendKind,
    stateDir,
    keystore: resolve(options.cwd, pick(flags.keystore, ['KEYWARDEN_KEYSTORE']) ?? join(stateDir, 'keystore.db')),
  };
  const region = pick(flags.region, ['KEYWARDEN_AWS_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'], 'region');
  const endpoint = pick(flags.endpoint, ['KEYWARDEN_AWS_ENDPOINT']);
  const library = pick(flags.library, ['KEYWARDEN_PKCS11_LIBRARY']);
  const token = pick(flags.token, ['KEYWARDEN_PKCS11_TOKEN']);
  if (region) cfg.region = region;
  if (endpoint) cfg.endpoint = endpoint;
  if (library) cfg.library = library;
  if (token) cfg.token = token;
  // Only the log is wanted (audit commands): no connection is made, so none of these is needed.
  const connecting = !options.auditOnly;
  if (connecting && kind === 'aws-kms' && !region) problems.push('aws-kms needs a region (--region, AWS_REGION, or backend.region)');
  if (connecting && kind === 'pkcs11' && !library) problems.push('pkcs11 needs a module (--pkcs11-library or KEYWARDEN_PKCS11_LIBRARY)');
  if (connecting && kind === 'pkcs11' && !token) problems.push('pkcs11 needs a token label (--pkcs11-token or KEYWARDEN_PKCS11_TOKEN)');
  if (connecting && kind === 'pkcs11' && !env.KEYWARDEN_PKCS11_PIN) problems.push('pkcs11 needs KEYWARDEN_PKCS11_PIN in the environment');
  if (problems.length) {
    throw new KeywardenError(ErrorCode.CONFIG_INVALID, `The backend configuration is incomplete: ${problems.join('; ')}.`, { fault: 'config', details: { problems } });
  }
  return cfg;
}

export interface OpenedBackend {
  backend: AuditedBackend;
  /** Where its operations are recorded: the keystore's own log (local), the state folder's `audit.db`, or a shared one given to `openBackend`. */
  audit: AuditWriter;
  close(): Promise<void>;
}

/**
 * AWS credentials from the environment Keywarden was given (not necessarily `process.env`: the
 * SDK's default chain reads only that). Undefined: the SDK's default chain (profiles, SSO,
 * instance and container roles) applies.
 */
export function awsCredentialsFromEnv(env: NodeJS.ProcessEnv): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** KEYWARDEN_AUDIT_KEY (base64, 32 bytes): the secret remote backends' checkpoints are signed with. */
export function readAuditSignerFromEnv(env: NodeJS.ProcessEnv): CheckpointSigner | undefined {
  const v = env.KEYWARDEN_AUDIT_KEY;
  if (!v) return undefined;
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length !== 32) {
    throw new KeywardenError(ErrorCode.CONFIG_INVALID, 'KEYWARDEN_AUDIT_KEY must be 32 bytes, base64-encoded (for example: openssl rand -base64 32).', {
      fault: 'config',
    });
  }
  const signer = createCheckpointSigner(bytes);
  bytes.fill(0);
  return signer;
}

/** The file that holds the configured backend's audit log. */
function auditLogPath(cfg: ResolvedBackendConfig): string {
  return cfg.kind === 'local' ? cfg.keystore : join(cfg.stateDir, 'audit.db');
}

export interface OpenedAuditLog {
  /** Undefined when the file does not exist (never created by opening it read-only). */
  audit: AuditLog | undefined;
  path: string;
  /** Whether checkpoints can be checked (and signed) with a key derived from a secret. */
  keyed: boolean;
  close(): void;
}

/**
 * Opens only the configured backend's audit log: read-only for `list` and `verify` (nothing is
 * created, so a deleted log stays missing), writable for `checkpoint`. With `needKey`, the
 * secret the checkpoint key derives from is required (the passphrase for the local keystore).
 */
export function openAuditLogFor(cfg: ResolvedBackendConfig, env: NodeJS.ProcessEnv, options: { readonly: boolean; needKey: boolean }): OpenedAuditLog {
  const path = auditLogPath(cfg);
  let audit: AuditLog | undefined;
  let keyed = false;
  if (cfg.kind === 'local') {
    const secret = readLocalKekFromEnv(env);
    if (options.needKey || secret.kek || secret.passphrase) {
      audit = LocalBackend.openAuditLog({ path, ...secret, readonly: options.readonly });
      keyed = true;
    } else if (existsSync(path)) audit = AuditLog.open(path, { readonly: true });
  } else {
    const signer = readAuditSignerFromEnv(env);
    // Verifying an unsigned remote log still checks its chain (and says the checkpoints went
    // unchecked); signing one needs the key.
    if (options.needKey && !options.readonly && !signer) {
      throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'No checkpoint key for this audit log: set KEYWARDEN_AUDIT_KEY (base64, 32 bytes).', {
        fault: 'config',
      });
    }
    keyed = signer !== undefined;
    if (!options.readonly) ensureStateDir(cfg.stateDir);
    if (!options.readonly || existsSync(path)) audit = AuditLog.open(path, { readonly: options.readonly, ...(signer ? { signer } : {}) });
  }
  return { audit, path, keyed, close: () => audit?.close() };
}

/** Opens the configured backend; the AWS SDK and the PKCS#11 binding load only for their backend. */
export async function openBackend(
  cfg: ResolvedBackendConfig,
  env: NodeJS.ProcessEnv,
  actor: string,
  options: { idempotency?: IdempotencyStore; audit?: AuditWriter } = {},
): Promise<OpenedBackend> {
  // Git-ignored before the first database file appears in it.
  ensureStateDir(cfg.stateDir);
  if (cfg.kind === 'local') {
    const local = LocalBackend.open({ path: cfg.keystore, ...readLocalKekFromEnv(env), actor });
    const backend = new AuditedBackend(local, local.auditLog, { actor });
    return { backend, audit: local.auditLog, close: () => backend.close() };
  }
  // A remote backend's log: the shared one when given (the App on PostgreSQL: one chain for every
  // worker), else the state folder's. The keystore's own log above stays with the keystore.
  const signer = options.audit ? undefined : readAuditSignerFromEnv(env);
  const owned = options.audit ? undefined : AuditLog.open(join(cfg.stateDir, 'audit.db'), signer ? { signer } : {});
  const audit: AuditWriter = options.audit ?? owned!;
  try {
    let inner;
    let extra: (() => void) | undefined;
    if (cfg.kind === 'aws-kms') {
      let idempotency = options.idempotency;
      if (!idempotency) {
        const db = openDatabase(join(cfg.stateDir, 'state.db'));
        extra = () => db.close();
        idempotency = new SqliteIdempotencyStore(db);
      }
      const credentials = awsCredentialsFromEnv(env);
      const { AwsKmsBackend } = await import('./aws-kms.js');
      inner = new AwsKmsBackend({
        region: cfg.region!,
        ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        idempotency,
      });
    } else {
      const { Pkcs11Backend } = await import('./pkcs11.js');
      inner = Pkcs11Backend.open({ library: cfg.library!, tokenLabel: cfg.token!, pin: env.KEYWARDEN_PKCS11_PIN ?? '', statePath: join(cfg.stateDir, 'state.db') });
    }
    const backend = new AuditedBackend(inner, audit, { actor });
    return {
      backend,
      audit,
      close: async () => {
        try {
          await backend.close();
          extra?.();
          await audit.checkpointIfMoved();
        } finally {
          owned?.close();
        }
      },
    };
  } catch (e) {
    owned?.close();
    throw e;
  }
}
