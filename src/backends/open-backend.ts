/**
 * Builds the configured backend, wrapped so every mutating verb lands in the audit log.
 *
 * Precedence: explicit settings (CLI flags) over environment variables over the policy
 * file's `backend:` block over the default (`local`). Secrets — the keystore passphrase or
 * KEK and the PKCS#11 PIN — come only from the environment, never from flags or the file:
 * flags show up in process listings and the file is committed.
 */
import { join, resolve } from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import { AuditLog } from '../store/audit.js';
import { SqliteIdempotencyStore } from '../store/idempotency.js';
import { openDatabase } from '../store/sqlite.js';
import { AuditedBackend } from './audited.js';
import { AwsKmsBackend } from './aws-kms.js';
import { LocalBackend, readLocalKekFromEnv } from './local.js';
import { Pkcs11Backend } from './pkcs11.js';

export const BACKEND_KINDS = ['local', 'aws-kms', 'pkcs11'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

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
  file: Record<string, string | number | boolean> | undefined,
  options: { cwd: string; stateDir?: string },
): ResolvedBackendConfig {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const pick = (flag: string | undefined, envNames: string[], fileKey: string): string | undefined =>
    flag ?? envNames.map((n) => str(env[n])).find((v) => v !== undefined) ?? str(file?.[fileKey]);
  const stateDir = resolve(options.cwd, options.stateDir ?? str(env.KEYWARDEN_STATE_DIR) ?? '.keywarden');
  const kind = pick(flags.kind, ['KEYWARDEN_BACKEND'], 'kind') ?? 'local';
  const problems: string[] = [];
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) problems.push(`unknown backend kind "${kind}" (use ${BACKEND_KINDS.join(', ')})`);
  const cfg: ResolvedBackendConfig = {
    kind: kind as BackendKind,
    stateDir,
    keystore: resolve(options.cwd, pick(flags.keystore, ['KEYWARDEN_KEYSTORE'], 'keystore') ?? join(stateDir, 'keystore.db')),
  };
  const region = pick(flags.region, ['KEYWARDEN_AWS_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'], 'region');
  const endpoint = pick(flags.endpoint, ['KEYWARDEN_AWS_ENDPOINT'], 'endpoint');
  const library = pick(flags.library, ['KEYWARDEN_PKCS11_LIBRARY'], 'library');
  const token = pick(flags.token, ['KEYWARDEN_PKCS11_TOKEN'], 'token');
  if (region) cfg.region = region;
  if (endpoint) cfg.endpoint = endpoint;
  if (library) cfg.library = library;
  if (token) cfg.token = token;
  if (kind === 'aws-kms' && !region) problems.push('aws-kms needs a region (--region, AWS_REGION, or backend.region)');
  if (kind === 'pkcs11' && !library) problems.push('pkcs11 needs a module (--pkcs11-library, KEYWARDEN_PKCS11_LIBRARY, or backend.library)');
  if (kind === 'pkcs11' && !token) problems.push('pkcs11 needs a token label (--pkcs11-token, KEYWARDEN_PKCS11_TOKEN, or backend.token)');
  if (kind === 'pkcs11' && !env.KEYWARDEN_PKCS11_PIN) problems.push('pkcs11 needs KEYWARDEN_PKCS11_PIN in the environment');
  for (const secretKey of ['pin', 'passphrase', 'kek', 'secret', 'secretAccessKey', 'password']) {
    if (file && secretKey in file) problems.push(`backend.${secretKey} must not be in the policy file; use the environment`);
  }
  if (problems.length) {
    throw new KeywardenError(ErrorCode.CONFIG_INVALID, `The backend configuration is incomplete: ${problems.join('; ')}.`, { fault: 'config', details: { problems } });
  }
  return cfg;
}

export interface OpenedBackend {
  backend: AuditedBackend;
  audit: AuditLog;
  close(): Promise<void>;
}

export function openAuditLog(stateDir: string): AuditLog {
  return AuditLog.open(join(stateDir, 'audit.db'));
}

export function openBackend(cfg: ResolvedBackendConfig, env: NodeJS.ProcessEnv, actor: string): OpenedBackend {
  const audit = openAuditLog(cfg.stateDir);
  try {
    let inner;
    let extra: (() => void) | undefined;
    if (cfg.kind === 'local') {
      inner = LocalBackend.open({ path: cfg.keystore, ...readLocalKekFromEnv(env) });
    } else if (cfg.kind === 'aws-kms') {
      const db = openDatabase(join(cfg.stateDir, 'state.db'));
      extra = () => db.close();
      inner = new AwsKmsBackend({ region: cfg.region!, ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}), idempotency: new SqliteIdempotencyStore(db) });
    } else {
      inner = Pkcs11Backend.open({ library: cfg.library!, tokenLabel: cfg.token!, pin: env.KEYWARDEN_PKCS11_PIN ?? '', statePath: join(cfg.stateDir, 'state.db') });
    }
    const backend = new AuditedBackend(inner, audit, { actor });
    return {
      backend,
      audit,
      close: async () => {
        await backend.close();
        extra?.();
        audit.close();
      },
    };
  } catch (e) {
    audit.close();
    throw e;
  }
}
