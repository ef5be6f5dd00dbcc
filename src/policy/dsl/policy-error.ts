import { ErrorCode, KeywardenError, type SourceLocation } from '../../errors.js';

/**
 * Thrown when a policy has problems. `problems` holds every one of them (each a located
 * `KeywardenError` with its own code and hint); the error itself reports the first.
 */
export class PolicyError extends KeywardenError {
  override readonly name = 'PolicyError';
  readonly problems: readonly KeywardenError[];
  constructor(problems: readonly KeywardenError[]) {
    const first = problems[0];
    const n = problems.length;
    super(first?.code ?? ErrorCode.POLICY_INVALID, n === 1 && first ? first.message : `The policy has ${n} problems; the first: ${first?.message ?? 'unknown'}`, {
      fault: 'config',
      ...(first?.location ? { location: first.location } : {}),
      ...(first?.hint ? { hint: first.hint } : {}),
      details: { problems: problems.map((p) => p.toJSON()) },
    });
    this.problems = problems;
  }
}

export function policyProblem(code: ErrorCode, message: string, hint: string, location: Required<SourceLocation>, details: Record<string, unknown>): KeywardenError {
  return new KeywardenError(code, message, { fault: 'config', hint, location, details });
}
