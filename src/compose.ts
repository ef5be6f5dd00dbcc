/**
 * The composition root: the one place that turns configuration and the environment into
 * adapters — the policy reader and builder, the key backend (audited), the credential revokers,
 * the pipeline's step store, the local git SCM, the clock and the logger. Entry points (the CLI
 * commands, the App next) parse their input, call `compose`, hand the result to the pipeline and
 * present what comes back; none of them wires an adapter itself.
 *
 * Everything is opened lazily and at most once: `keywarden scan` never opens a keystore, and
 * `keywarden keys list` never compiles a policy. `close()` closes what was opened.
 *
 * @example
 * const c = compose({ cwd, env: process.env, actor: 'cli:alice' });
 * try {
 *   const report = await runPipeline(event, await createPipelineDeps(c));
 * } finally {
 *   await c.close();
 * }
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  awsCredentialsFromEnv,
  openAuditLogFor,
  openBackend,
  resolveBackendConfig,
  type BackendSettings,
  type OpenedAuditLog,
  type OpenedBackend,
  type PolicyBackendBlock,
  type ResolvedBackendConfig,
} from './backends/open-backend.js';
import type { CredentialRevoker } from './backends/port.js';
import { ErrorCode, KeywardenError } from './errors.js';
import type { PolicyAst } from './policy/dsl/ast.js';
import { DEFAULT_POLICY_FILE } from './policy/default-file.js';
import type { PolicyEngine } from './policy/engine/policy-engine.js';
import type { PolicySource } from './policy/source.js';
import { createLogger, type Logger } from './util/logger.js';
import { defaultCacheDir } from './policy/engine/cache-dir.js';
import type { AuditWriter } from './store/audit.js';
import type { IdempotencyStore } from './store/idempotency.js';

export interface ComposeOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Who acts: recorded with every key operation (`cli:<user>`, `app`, a job id). */
  actor?: string;
  /**
   * The policy file, relative to `cwd` (or to `source`). Default `.github/keywarden.yml`, used
   * when present; an explicit file must exist. `false`: no policy.
   */
  policyFile?: string | false;
  /** Where the policy and its `extends:` are read from (default: the disk under `cwd`). */
  policySource?: PolicySource;
  /** Backend settings from flags: they win over the environment and the policy's `backend:` block. */
  backend?: BackendSettings;
  /** The state folder (keystore, audit log, step store); default KEYWARDEN_STATE_DIR, then `.keywarden`. */
  stateDir?: string;
  /** Only the audit log is wanted: backend connection settings and secrets are not required. */
  auditOnly?: boolean;
  clock?: () => Date;
  logger?: Logger;
  /**
   * Where remote backends (AWS KMS and IAM) keep their idempotency records. Default: `state.db` in
   * the state folder (one machine). The App on PostgreSQL passes the shared store, so two workers
   * on two machines never act twice on one idempotency key.
   */
  idempotency?: IdempotencyStore;
  /** The audit log remote backends record to. Default: `audit.db` in the state folder. The App on PostgreSQL passes the shared chain. */
  audit?: AuditWriter;
}

export interface Composition {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly actor: string;
  readonly clock: () => Date;
  readonly logger: Logger;
  /** The policy build cache: KEYWARDEN_CACHE_DIR, else the user's cache folder; `false` with KEYWARDEN_CACHE_DIR=off. */
  readonly cacheDir: string | false;
  /** The policy file as given (for messages), or undefined when there is none. */
  policyFile(): string | undefined;
  /** The parsed and validated policy, read once; undefined when there is no policy file. */
  policy(): Promise<PolicyAst | undefined>;
  /** The policy file a revision is read at (for a range: the base's): the given one or the default; `false`: none. */
  readonly policyRef: string | false;
  /** The compiled, built and loaded engine for a policy (default: `policy()`; the built-in default when there is none). */
  policyEngine(ast?: PolicyAst): Promise<PolicyEngine>;
  /** The one backend configuration: flags over environment over the policy's `backend:` block. */
  backendConfig(): Promise<ResolvedBackendConfig>;
  /** The configured backend, audited, opened once. */
  backend(): Promise<OpenedBackend>;
  /** Only the configured backend's audit log. */
  auditLog(options: { readonly: boolean; needKey: boolean }): Promise<OpenedAuditLog>;
  /** Revokers for provider credentials that this configuration can reach (AWS IAM with an aws-kms backend). */
  revokers(): Promise<CredentialRevoker[]>;
  close(): Promise<void>;
}

/**
 * Engines for a policy the entry point read and holds (the App's cached repository policy), shared
 * by every composition in the process: a job does not load the same bundle again. Evaluation is
 * synchronous, so sharing is safe; the entry is gone with the policy object.
 */
const sharedEngines = new WeakMap<object, Promise<PolicyEngine>>();
const BUILT_IN = {};

export function compose(options: ComposeOptions): Composition {
  const { cwd, env } = options;
  const actor = options.actor ?? 'keywarden';
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? createLogger({ env });
  const cacheDir = defaultCacheDir(env);
  const closers: Array<() => Promise<void> | void> = [];

  const policyFile = (): string | undefined => {
    if (options.policyFile === false) return undefined;
    if (options.policyFile !== undefined) return options.policyFile;
    if (options.policySource) return DEFAULT_POLICY_FILE;
    const dir = statSync(cwd, { throwIfNoEntry: false })?.isDirectory() ? cwd : path.dirname(cwd);
    return existsSync(path.join(dir, DEFAULT_POLICY_FILE)) ? DEFAULT_POLICY_FILE : undefined;
  };

  let policyP: Promise<PolicyAst | undefined> | undefined;
  const policy = (): Promise<PolicyAst | undefined> =>
    (policyP ??= (async () => {
      const file = policyFile();
      if (file === undefined) return undefined;
      const { readPolicy } = await import('./policy/engine/load.js');
      if (options.policySource) {
        try {
          return await readPolicy(file, { source: options.policySource });
        } catch (e) {
          // The default file is optional at a revision as on disk.
          if (options.policyFile === undefined && e instanceof KeywardenError && e.code === ErrorCode.FILE_UNREADABLE) return undefined;
          throw e;
        }
      }
      return readPolicy(file, { cwd });
    })());

  const engines = new Map<PolicyAst | undefined, Promise<PolicyEngine>>();
  const policyEngine = (given?: PolicyAst): Promise<PolicyEngine> => {
    // No policy file and none given: the built-in default, the same for every composition.
    const shareKey: object | undefined = given ?? (options.policyFile === false ? BUILT_IN : undefined);
    let p = engines.get(given) ?? (shareKey ? sharedEngines.get(shareKey) : undefined);
    if (!p) {
      p = (async () => {
        const [{ createPolicyEngine }, { defaultPolicy }] = await Promise.all([import('./policy/engine/policy-engine.js'), import('./policy/default-policy.js')]);
        const ast = given ?? (await policy()) ?? defaultPolicy();
        return createPolicyEngine({ ast, cacheDir });
      })();
      engines.set(given, p);
      if (shareKey) {
        sharedEngines.set(shareKey, p);
        p.catch(() => sharedEngines.delete(shareKey));
      }
    }
    return p;
  };

  let cfgP: Promise<ResolvedBackendConfig> | undefined;
  const backendConfig = (): Promise<ResolvedBackendConfig> =>
    (cfgP ??= (async () => {
      const ast = await policy();
      const block: PolicyBackendBlock | undefined = ast?.backend ? { kind: ast.backend.kind, ...(ast.backend.region ? { region: ast.backend.region } : {}) } : undefined;
      return resolveBackendConfig(options.backend ?? {}, env, block, {
        cwd,
        ...(options.stateDir ? { stateDir: options.stateDir } : {}),
        ...(options.auditOnly ? { auditOnly: true } : {}),
      });
    })());

  let backendP: Promise<OpenedBackend> | undefined;
  const backend = (): Promise<OpenedBackend> =>
    (backendP ??= (async () => {
      const opened = await openBackend(await backendConfig(), env, actor, {
        ...(options.idempotency ? { idempotency: options.idempotency } : {}),
        ...(options.audit ? { audit: options.audit } : {}),
      });
      closers.push(() => opened.close());
      return opened;
    })());

  let revokersP: Promise<CredentialRevoker[]> | undefined;
  const revokers = (): Promise<CredentialRevoker[]> =>
    (revokersP ??= (async () => {
      const cfg = await backendConfig();
      if (cfg.kind !== 'aws-kms') return [];
      const [{ AwsIamAccessKeyRevoker }, { AuditedRevoker }, { FileSecretSink }, { SqliteIdempotencyStore }, { openDatabase }] = await Promise.all([
        import('./backends/aws-iam-revoker.js'),
        import('./backends/audited.js'),
        import('./backends/secret-sink.js'),
        import('./store/idempotency.js'),
        import('./store/sqlite.js'),
      ]);
      const opened = await backend();
      let idempotency = options.idempotency;
      if (!idempotency) {
        const db = openDatabase(path.join(cfg.stateDir, 'state.db'));
        closers.push(() => {
          db.close();
        });
        idempotency = new SqliteIdempotencyStore(db);
      }
      const credentials = awsCredentialsFromEnv(env);
      const revoker = new AwsIamAccessKeyRevoker({
        ...(cfg.region ? { region: cfg.region } : {}),
        ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        sink: new FileSecretSink(path.join(cfg.stateDir, 'issued')),
        idempotency,
      });
      return [new AuditedRevoker(revoker, opened.audit, { actor })];
    })());

  return {
    cwd,
    env,
    actor,
    clock,
    logger,
    cacheDir,
    policyFile,
    policyRef: options.policyFile === false ? false : (options.policyFile ?? DEFAULT_POLICY_FILE),
    policy,
    policyEngine,
    backendConfig,
    backend,
    auditLog: async (o) => openAuditLogFor(await backendConfig(), env, o),
    revokers,
    close: async () => {
      // Last opened, first closed: revokers' stores before the backend they log into.
      for (const c of closers.reverse()) await c();
      closers.length = 0;
    },
  };
}
