/**
 * Turn `opa check --format json` errors into located Keywarden errors. An error inside the
 * generated module points at the policy line that produced the Rego (through `lineMap`); an error
 * in a custom `.rego` module points at that module's line. Pure.
 */
import { ErrorCode, type KeywardenError } from '../../errors.js';
import { policyProblem } from '../dsl/policy-error.js';
import type { Loc } from '../dsl/ast.js';

export interface OpaError {
  message?: string;
  code?: string;
  location?: { file?: string; row?: number; col?: number };
}

export interface ModuleOrigin {
  /** Path of the module as handed to opa (relative to its working folder). */
  bundlePath: string;
  /** What people should see: the policy file or the custom module path. */
  displayPath: string;
  /** For the generated module: Rego line → policy place. */
  lineMap?: ReadonlyMap<number, Loc>;
}

export function mapOpaErrors(errors: readonly OpaError[], modules: readonly ModuleOrigin[]): KeywardenError[] {
  return errors.map((e) => {
    const message = (e.message ?? 'unknown error').split('\n')[0]?.slice(0, 300) ?? '';
    const file = e.location?.file ?? '';
    const row = e.location?.row ?? 1;
    const col = e.location?.col ?? 1;
    const origin = modules.find((m) => file === m.bundlePath || file.endsWith(`/${m.bundlePath}`));
    const builtin = /^undefined function (\S+)/.exec(message)?.[1];
    const regoPlace = { file: origin?.displayPath ?? file, line: row, column: col };
    const policyLoc = origin?.lineMap?.get(row);
    const location = policyLoc ? { file: policyLoc.file, line: policyLoc.line, column: policyLoc.column } : regoPlace;
    const details = { opaCode: e.code ?? 'unknown', rego: regoPlace, ...(builtin ? { builtin } : {}) };
    if (builtin)
      return policyProblem(
        ErrorCode.POLICY_BUILTIN,
        `The builtin ${builtin} is not available to keywarden policies (OPA's wasm target or the JS SDK lacks it, or it is non-deterministic).`,
        builtin.startsWith('time.now') ? 'Read the time from input.now / input.nowMs instead of a clock builtin.' : 'Use a builtin listed by `keywarden policy build --print-capabilities`, or compute the value before evaluation and pass it in the input.',
        location,
        details,
      );
    return policyProblem(ErrorCode.POLICY_COMPILE, `Rego ${e.code ?? 'error'}: ${message}`, origin?.lineMap ? 'This is a bug in the Rego keywarden generated; please report it with the policy.' : 'Fix the custom Rego module at this line.', location, details);
  });
}
