/**
 * The Keywarden SDK: everything other programs import. Re-exports only.
 *
 * @example
 * import { scan } from 'keywarden';
 * const { findings } = await scan({ path: '.', git: { range: 'origin/main..HEAD' } });
 * for (const f of findings) console.log(f.file, f.startLine, f.ruleId, f.redacted);
 */
export { ErrorCode, KeywardenError, UnsupportedError, isKeywardenError, type Fault } from './errors.js';
export { scan, type ScanOptions, type ScanProgress } from './scan/scan.js';
export { scanBytes, createRuleset, type Ruleset } from './scan/engine.js';
export { scanText, type ScanTextOptions } from './scan/scan-text.js';
export { builtinDetectors } from './scan/detectors/index.js';
export { selectDetectors, compileCustomDetector, type DetectorSelection } from './scan/select-detectors.js';
export { parseBaseline, applyBaseline, createBaseline, formatBaseline, type Baseline, type BaselineEntry } from './scan/baseline.js';
export { formatSarif } from './scan/format/sarif.js';
export { fingerprintSecret, redactSecret, maskSecrets } from './scan/redact.js';
export type * from './scan/types.js';

// Backends: one interface, three implementations, and the audit log every mutation writes to.
export type * from './backends/port.js';
export { LocalBackend, type LocalBackendOptions } from './backends/local.js';
export { AwsKmsBackend, type AwsKmsBackendOptions } from './backends/aws-kms.js';
export { Pkcs11Backend, type Pkcs11BackendOptions } from './backends/pkcs11.js';
export { AwsIamAccessKeyRevoker, type AwsIamRevokerOptions } from './backends/aws-iam-revoker.js';
export { AuditedBackend, AuditedRevoker } from './backends/audited.js';
export { rotateWithFallback } from './backends/rotate-with-fallback.js';
export { openBackend, resolveBackendConfig, BACKEND_KINDS, type BackendKind } from './backends/open-backend.js';
export { KeyNotExportableError, KeyVersionRevokedError, type ExportFormat, type ExportedKey } from './backends/local.js';
export { AuditLog, verifyRecords, parseAuditJsonl, type AuditRecord, type AuditVerifyResult } from './store/audit.js';
export { createCheckpointSigner, parseCheckpoint, type SignedCheckpoint } from './store/checkpoint.js';

// Policy: the key-policy DSL, its compiler to Rego, and the engine that builds it to wasm (with the
// OPA CLI) and decides, incrementally, with @open-policy-agent/opa-wasm.
export { definePolicy, type PolicySpec, type KeyClassSpec } from './policy/dsl/define-policy.js';
export { parsePolicy, validatePolicy, type ParsePolicyOptions, type ValidatePolicyResult } from './policy/dsl/parse.js';
export { PolicyError } from './policy/dsl/policy-error.js';
export type { PolicyAst } from './policy/dsl/ast.js';
export { compilePolicy, type CompiledPolicy } from './policy/compile/compile-policy.js';
export { readPolicy, readRegoModules, DEFAULT_POLICY_FILE, type ReadPolicyOptions } from './policy/engine/load.js';
export { createDiskPolicySource, createGitPolicySource, type PolicySource } from './policy/source.js';
export { readSecretsAtRevision, type SecretsAtRevision } from './policy/secrets-at-revision.js';
export { resolveRange, type GitRange } from './scan/sources/git.js';
export { createPolicyEngine, type PolicyEngine, type CreatePolicyEngineOptions } from './policy/engine/policy-engine.js';
export { policyKeysFrom } from './policy/backend-keys.js';
export type { PolicyInput, Decision, Violation, DecisionAction, DecisionSubject, ManagedKeyInput, ConfigFact } from './policy/input.js';

// The pipeline: one call from a repository (a tree, a range, the index) to revoked, rotated and patched.
export { compose, type Composition, type ComposeOptions } from './compose.js';
export { defaultCacheDir } from './policy/engine/cache-dir.js';
export { runPipeline, type PipelineEvent, type PipelineDeps, type PipelineSource } from './pipeline/run.js';
export { planResponse, type PlanOptions } from './pipeline/plan.js';
export { prepareScan, type DetectRequest, type PreparedScan } from './pipeline/detect.js';
export type * from './pipeline/types.js';
export { SqliteStepStore, type StepStore, type StepRecord } from './store/steps.js';
export type { CredentialIdentity } from './model/finding.js';
