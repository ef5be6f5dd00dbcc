/**
 * The configuration check in one call, for `keywarden check` and the App's pull-request check:
 * configuration files in, facts extracted (src/inspect), judged by the policy's compiled Rego,
 * violations and problems out, sorted by file and line.
 *
 * The engine is the caller's (`createPolicyEngine`): an engine kept between checks judges
 * incrementally — a fact that did not change is not evaluated again, so a pull request that edits
 * one file re-judges that file's facts only.
 */
import { inspectFiles, type Fact, type InspectFileInput, type Problem } from '../inspect/index.js';
import { toPolicyFacts } from '../inspect/policy-facts.js';
import type { PolicyEngine } from '../policy/engine/policy-engine.js';
import type { Violation } from '../policy/input.js';

/** The files `check` reads: Terraform, YAML (CloudFormation, Kubernetes), JSON, templates, dotenv files, TypeScript/JavaScript. */
export const CONFIG_FILE = /\.(tf|tfvars|ya?ml|json|template|ts|tsx|mts|cts|js|jsx|mjs|cjs)$|(^|\/)\.env(\.[^/]*)?$/i;
/** Of those, the code files: facts of one file only (nothing resolves across them). */
export const CODE_FILE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/i;
/** The inspector's own cap (src/inspect/index.ts): larger files are a problem, not read. */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;
/** Configuration files read at most; beyond, the rest are counted as skipped. */
export const MAX_CONFIG_FILES = 20_000;

export interface ConfigJudgement {
  violations: Violation[];
  problems: Problem[];
  /** The extracted facts as the inspector gave them (with positions), for `--fix`. */
  facts: Fact[];
  counts: { configFiles: number; keys: number; secretRefs: number; unknown: Record<string, number> };
}

export interface JudgeConfigInput {
  /** The configuration files' texts. */
  inputs: readonly InspectFileInput[];
  /** Every file of the repository (the policy's file rules judge them). */
  files: readonly string[];
  /** Problems found while reading (too large, unreadable): reported beside the inspector's. */
  problems?: readonly Problem[];
  /** ISO time the policy judges at. */
  now: string;
}

export function judgeConfig(engine: PolicyEngine, input: JudgeConfigInput): ConfigJudgement {
  const inspected = inspectFiles(input.inputs, { maxBytes: MAX_CONFIG_BYTES });
  const problems = [...(input.problems ?? []), ...inspected.problems];
  const { facts, unknown } = toPolicyFacts(inspected.facts);
  const decision = engine.evaluate({ now: input.now, repo: { files: [...input.files] }, facts, keys: [] });
  const violations = [...decision.violations].sort((a, b) => cmp(locOf(a), locOf(b)));
  problems.sort((a, b) => cmp(`${a.file}\0${pad(a.line)}`, `${b.file}\0${pad(b.line)}`));
  return {
    violations,
    problems,
    facts: inspected.facts,
    counts: { configFiles: input.inputs.length, keys: facts.filter((f) => f.kind === 'key').length, secretRefs: facts.filter((f) => f.kind === 'secret-ref').length, unknown },
  };
}

/** Where a violation is in the repository: its subject's file and line, when it has them. */
export function violationAt(v: Violation): { file: string | undefined; line: number | undefined; column: number | undefined } {
  const s = v.subject as { file?: unknown; line?: unknown; column?: unknown };
  return {
    file: typeof s.file === 'string' ? s.file : undefined,
    line: typeof s.line === 'number' ? s.line : undefined,
    column: typeof s.column === 'number' ? s.column : undefined,
  };
}

const pad = (n: number | undefined): string => String(n ?? 0).padStart(9, '0');
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function locOf(v: Violation): string {
  const w = violationAt(v);
  return `${w.file ?? ''}\0${pad(w.line)}\0${v.rule}`;
}
