/**
 * Evaluate a built policy in-process with `@open-policy-agent/opa-wasm`: load once, evaluate
 * many. The SDK throws strings and plain objects; they are wrapped here into `KW_POLICY_EVAL`
 * errors (the foreign text kept only as `cause`).
 */
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { type Decision, type DecisionAction, prepareInput, type Violation } from '../input.js';

export class PolicyEvaluator {
  private constructor(
    private readonly policy: LoadedPolicy,
    readonly entrypoint: string,
  ) {}

  static async load(wasm: Uint8Array, entrypoint: string): Promise<PolicyEvaluator> {
    try {
      // 320 KiB initial memory is the SDK default; realistic inputs (hundreds of keys) need more.
      const policy = await loadPolicy(wasm.slice().buffer, { initial: 16, maximum: 4096 });
      return new PolicyEvaluator(policy, entrypoint);
    } catch (e) {
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'The policy bundle could not be loaded into WebAssembly.', {
        fault: 'internal',
        cause: e,
        hint: 'Rebuild the policy with `keywarden policy build`; delete .cache/keywarden if the problem stays.',
      });
    }
  }

  /** Validate and prepare `input`, then evaluate. */
  evaluate(input: unknown): Decision {
    return this.evaluatePrepared(prepareInput(input));
  }

  /** Evaluate an input already passed through `prepareInput` (for loops over the same input). */
  evaluatePrepared(prepared: Record<string, unknown>): Decision {
    let rs: unknown;
    try {
      rs = this.policy.evaluate(prepared, this.entrypoint);
    } catch (e) {
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'Evaluating the policy failed.', {
        cause: e,
        fault: 'internal',
        hint: 'A custom Rego module may have a runtime error (e.g. conflicting values); run `keywarden policy test`.',
      });
    }
    const result = Array.isArray(rs) ? (rs[0] as { result?: Decision } | undefined)?.result : undefined;
    if (!result || !Array.isArray(result.violations) || !Array.isArray(result.actions))
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'The policy returned no decision.', { fault: 'internal', hint: 'Check custom modules: they must define `violations` and `actions` as sets.' });
    return { violations: [...result.violations].sort(byKey), actions: [...result.actions].sort(byKey) };
  }
}

const key = (x: Violation | DecisionAction): string =>
  `${x.rule}\0${'type' in x ? x.type : ''}\0${x.subject.file ?? ''}\0${String(x.subject.line ?? 0).padStart(8, '0')}\0${x.subject.id ?? ''}\0${JSON.stringify(x)}`;
const byKey = (a: Violation | DecisionAction, b: Violation | DecisionAction): number => {
  const [x, y] = [key(a), key(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};
