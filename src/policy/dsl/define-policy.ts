/**
 * `definePolicy`: the same policy as the YAML, written in TypeScript. The types reject what the
 * schema rejects where a type can (durations, comparisons, dates, actions, severities, unknown
 * properties); the value then goes through the very same validation and AST building as YAML, so
 * both compile to the same Rego.
 */
import type { CustomDetectorSpec, Severity } from '../../scan/types.js';
import type { ActionType, BackendKind, Loc, PolicyAst, ReferenceSource, Visibility } from './ast.js';
import { buildAst, type PathSeg } from './build-ast.js';
import { validatePolicyValue } from './parse.js';
import { PolicyError } from './policy-error.js';

export type DurationText = `${number}${'h' | 'd' | 'w' | 'y'}`;
export type ComparisonText = `${'>=' | '<=' | '>' | '<' | '=='} ${DurationText}` | `${'>=' | '<=' | '>' | '<' | '=='}${DurationText}`;
export type DateText = `${number}-${number}-${number}`;
type OneOrMany<T> = T | readonly T[];

export interface KeyClassSpec {
  name: string;
  description?: string;
  match?: {
    backend?: BackendKind;
    id?: string;
    alias?: string;
    label?: string;
    tags?: Record<string, string>;
    family?: OneOrMany<'symmetric' | 'asymmetric' | 'hmac'>;
    spec?: string;
    resource?: string;
    path?: string;
  };
  severity?: Severity;
  do?: readonly ActionType[];
  spec?: { allow?: readonly string[]; deny?: readonly string[]; 'min-size'?: Record<string, number> };
  rotation?: { 'max-age'?: DurationText; automatic?: 'required' | 'optional' | 'forbidden'; period?: OneOrMany<ComparisonText> };
  access?: { admins?: readonly string[]; users?: readonly string[]; forbid?: readonly ('wildcard-principal' | `${string}:${string}`)[]; 'separate-duties'?: boolean; exempt?: readonly string[] };
  destroy?: { 'pending-window'?: OneOrMany<ComparisonText> };
}

/** A custom detector as the policy file spells it: the scanner's `CustomDetectorSpec` with YAML's `min-entropy` (no `confidence`). */
export type CustomDetectorDef = Omit<CustomDetectorSpec, 'confidence' | 'keywords' | 'minEntropy'> & { keywords?: readonly string[]; 'min-entropy'?: number };

export interface PolicySpec {
  version: 1;
  name?: string;
  extends?: OneOrMany<string>;
  backend?: { kind: BackendKind; region?: string };
  keys?: readonly KeyClassSpec[];
  secrets?: {
    detectors?: readonly ('recommended' | 'none' | CustomDetectorDef)[];
    'ignore-paths'?: readonly string[];
    'on-leak'?: readonly {
      when?: { type?: OneOrMany<string>; branch?: OneOrMany<string>; path?: OneOrMany<string>; visibility?: OneOrMany<Visibility> };
      do: readonly [ActionType, ...ActionType[]];
      severity?: Severity;
      message?: string;
    }[];
  };
  storage?: { 'forbid-files'?: readonly string[]; 'require-reference'?: readonly ReferenceSource[]; severity?: Severity };
  drift?: { every: DurationText };
  exceptions?: readonly ({ reason: string; owner: string; expires: DateText } & (
    | { fingerprint: `sha256:${string}`; key?: string; rule?: string; path?: string }
    | { fingerprint?: `sha256:${string}`; key: string; rule?: string; path?: string }
    | { fingerprint?: `sha256:${string}`; key?: string; rule: string; path?: string }
    | { fingerprint?: `sha256:${string}`; key?: string; rule?: string; path: string }
  ))[];
}

/**
 * Build a policy AST from code. Throws a `PolicyError` with every problem (locations are the
 * JSON pointer of the value, in `file`, line 1).
 *
 * @example
 * export default definePolicy({
 *   version: 1,
 *   keys: [{ name: 'signing', match: { alias: 'alias/sign-*' }, rotation: { 'max-age': '90d', automatic: 'required' } }],
 * });
 */
export function definePolicy<const T extends PolicySpec>(spec: T & Exact<T, PolicySpec>, options: { file?: string } = {}): PolicyAst {
  const file = options.file ?? 'definePolicy';
  const locate = (path: readonly PathSeg[]): Loc => ({ file, line: 1, column: 1, path: path.map((s) => `/${String(s)}`).join('') });
  const problems = validatePolicyValue(spec, file);
  if (problems.length > 0) throw new PolicyError(problems);
  const { ast } = buildAst(spec, file, locate);
  return ast;
}

/** Rejects object literal keys that `PolicySpec` does not know, at any depth the literal has. */
type Exact<T, Shape> = T extends readonly (infer E)[]
  ? Shape extends readonly (infer S)[]
    ? readonly Exact<E, S>[]
    : T
  : T extends object
    ? Shape extends object
      ? { [K in keyof T]: K extends keyof Shape ? Exact<T[K], NonNullable<Shape[K]>> : never }
      : T
    : T;
