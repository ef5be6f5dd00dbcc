/**
 * The decide stage in one call: compile the AST, build it to wasm (cached), load it once, and
 * evaluate as many inputs as needed. Without custom Rego modules, decisions are incremental
 * (`IncrementalEvaluator`): each key, finding, fact and file is judged once and its part of the
 * decision reused while it holds; with them, every decision evaluates the whole input.
 *
 * @example
 * const engine = await createPolicyEngine({ ast: await readPolicy('.github/keywarden.yml') });
 * engine.setKeyInventory(await backend.inventory());
 * const decision = engine.evaluate({ now: new Date().toISOString(), findings, repo, event });
 */
import { compilePolicy, type CompiledPolicy } from '../compile/compile-policy.js';
import type { PolicyAst } from '../dsl/ast.js';
import { type Decision, type ManagedKeyInput, prepareInput } from '../input.js';
import { buildPolicy, type BuildPolicyOptions, type BuiltPolicy, type RegoModule } from './build.js';
import { PolicyEvaluator } from './evaluator.js';
import { IncrementalEvaluator, type IncrementalOptions } from './incremental.js';

export interface CreatePolicyEngineOptions extends Omit<BuildPolicyOptions, 'compiled'> {
  ast: PolicyAst;
  modules?: readonly RegoModule[];
  /** Cache per-item parts of decisions (default on; ignored with custom modules). `false` evaluates every input whole. */
  incremental?: boolean | IncrementalOptions;
}

export interface PolicyEngine {
  readonly ast: PolicyAst;
  readonly compiled: CompiledPolicy;
  readonly built: BuiltPolicy;
  /** True when decisions are evaluated incrementally (no custom modules, not turned off). */
  readonly incremental: boolean;
  /** Items (keys, findings, facts, files) of the last `evaluate`: evaluated, and reused from the cache. Both 0 when not incremental. */
  readonly lastItems: { readonly evaluated: number; readonly reused: number };
  /** Validate `input` and decide. Without `input.keys`, the key inventory (if set) is judged. */
  evaluate(input: unknown): Decision;
  /** Evaluate a `prepareInput` result whole (no cache); for tests and benchmarks. */
  evaluatePrepared(prepared: Record<string, unknown>): Decision;
  /** The key inventory judged by inputs without `keys` (see `IncrementalEvaluator.setKeyInventory`, `PolicyEvaluator.setKeyInventory`). */
  setKeyInventory(keys: readonly ManagedKeyInput[] | undefined): void;
}

export async function createPolicyEngine(options: CreatePolicyEngineOptions): Promise<PolicyEngine> {
  const compiled = compilePolicy(options.ast);
  const { ast: _a, incremental: inc, ...rest } = options;
  const built = await buildPolicy({ ...rest, compiled });
  const evaluator = await PolicyEvaluator.load(built.wasm, built.entrypoint);
  const incremental = inc !== false && (options.modules ?? []).length === 0 ? new IncrementalEvaluator(evaluator, compiled.partial, typeof inc === 'object' ? inc : {}) : undefined;
  return {
    ast: options.ast,
    compiled,
    built,
    incremental: incremental !== undefined,
    lastItems: incremental?.last ?? { evaluated: 0, reused: 0 },
    evaluate: (input) => (incremental ? incremental.evaluate(input) : evaluator.evaluate(input)),
    evaluatePrepared: (p) => {
      // Without keys the inventory is judged: the incremental evaluator holds it (validated copies), not wasm.
      const inventory = incremental && p.keys === undefined ? incremental.inventoryKeys() : undefined;
      return evaluator.evaluatePrepared(inventory ? { ...p, keys: prepareInput({ now: '1970-01-01T00:00:00Z', keys: inventory }).keys } : p);
    },
    setKeyInventory: (keys) => (incremental ? incremental.setKeyInventory(keys) : evaluator.setKeyInventory(keys)),
  };
}
