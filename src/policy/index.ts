/** The decide stage: the key-policy DSL, its compiler to Rego, and the wasm engine. */
export * from './dsl/ast.js';
export { validatePolicy, parsePolicy, validatePolicyValue, type ParsePolicyOptions, type ValidatePolicyResult } from './dsl/parse.js';
export { PolicyError } from './dsl/policy-error.js';
export { definePolicy, type PolicySpec, type KeyClassSpec, type DurationText, type ComparisonText, type DateText } from './dsl/define-policy.js';
export { getSecretsConfig, type SecretsConfig } from './dsl/secrets.js';
export { mergePolicies } from './dsl/merge.js';
export { POLICY_SCHEMA } from './dsl/schema.js';
export { compilePolicy, type CompiledPolicy, type CompilePolicyOptions, type PartialDecisionInfo } from './compile/compile-policy.js';
export { restrictCapabilities } from './compile/capabilities.js';
export * from './input.js';
export { policyKeysFrom } from './backend-keys.js';
export { buildPolicy, clearBuildCache, wasmCapabilities, type BuiltPolicy, type BuildPolicyOptions, type RegoModule } from './engine/build.js';
export { PolicyEvaluator } from './engine/evaluator.js';
export { IncrementalEvaluator, type IncrementalOptions } from './engine/incremental.js';
export { findOpa, runOpa } from './engine/opa-cli.js';
export { readPolicy, readRegoModules, DEFAULT_POLICY_FILE, type ReadPolicyOptions } from './engine/load.js';
export { createDiskPolicySource, createGitPolicySource, normalizeSourcePath, MAX_POLICY_SOURCE_BYTES, type PolicySource, type PathRefusal } from './source.js';
export { createPolicyEngine, type PolicyEngine, type CreatePolicyEngineOptions } from './engine/policy-engine.js';
