/**
 * The decide stage in one call: compile the AST, build it to wasm (cached), load it once, and
 * evaluate as many inputs as needed.
 *
 * @example
 * const engine = await createPolicyEngine({ ast: await readPolicy('.github/keywarden.yml') });
 * const decision = engine.evaluate({ now: new Date().toISOString(), findings, keys });
 */
import { compilePolicy, type CompiledPolicy } from '../compile/compile-policy.js';
import type { PolicyAst } from '../dsl/ast.js';
import type { Decision, ManagedKeyInput } from '../input.js';
import { buildPolicy, type BuildPolicyOptions, type BuiltPolicy, type RegoModule } from './build.js';
import { PolicyEvaluator } from './evaluator.js';

export interface CreatePolicyEngineOptions extends Omit<BuildPolicyOptions, 'compiled'> {
  ast: PolicyAst;
  modules?: readonly RegoModule[];
}

export interface PolicyEngine {
  readonly ast: PolicyAst;
  readonly compiled: CompiledPolicy;
  readonly built: BuiltPolicy;
  evaluate(input: unknown): Decision;
  evaluatePrepared(prepared: Record<string, unknown>): Decision;
  /** Keep the key inventory in wasm memory for inputs without `keys` (see `PolicyEvaluator.setKeyInventory`). */
  setKeyInventory(keys: readonly ManagedKeyInput[] | undefined): void;
}

export async function createPolicyEngine(options: CreatePolicyEngineOptions): Promise<PolicyEngine> {
  const compiled = compilePolicy(options.ast);
  const { ast: _a, ...rest } = options;
  const built = await buildPolicy({ ...rest, compiled });
  const evaluator = await PolicyEvaluator.load(built.wasm, built.entrypoint);
  return {
    ast: options.ast,
    compiled,
    built,
    evaluate: (input) => evaluator.evaluate(input),
    evaluatePrepared: (p) => evaluator.evaluatePrepared(p),
    setKeyInventory: (keys) => evaluator.setKeyInventory(keys),
  };
}
