/**
 * The input document a policy is evaluated against, and the decision it returns.
 *
 * `prepareInput` is pure: it validates the input against `INPUT_SCHEMA` (every problem at once)
 * and adds the derived fields the generated Rego reads (`nowMs`, `rotatedAtMs`, `specFamily`,
 * `specBits`, defaults for missing lists). Wasm has no clock, so `now` is required.
 */
import type { ValidateFunction } from 'ajv';
import { ErrorCode, KeywardenError } from '../errors.js';
import type { Finding } from '../model/finding.js';
import type { Visibility } from './dsl/ast.js';
import { PolicyError } from './dsl/policy-error.js';
import { lineColumnOf } from '../util/line-column.js';
import { validateDecision, validateFactItem, validateFindingItem, validateInputSchema, validateInputTop, validateKeyItem } from './generated/validate-input-schemas.js';
import { specInfo as vendorSpecInfo } from '../inspect/facts.js';

export interface AccessGrant {
  principal: string;
  operations: string[];
}

/** A key as the backends describe it (see src/backends). Only `id` and `backend` are required. */
export interface ManagedKeyInput {
  id: string;
  backend: string;
  aliases?: string[];
  labels?: string[];
  /** Backend key spec, e.g. `RSA_2048`, `ECC_NIST_P256`, `SYMMETRIC_DEFAULT`, `HMAC_256`. */
  spec?: string;
  state?: string;
  /** RFC 3339. */
  createdAt?: string;
  lastRotatedAt?: string | null;
  rotation?: { enabled: boolean; periodDays?: number | null };
  tags?: Record<string, string>;
  access?: AccessGrant[];
  /** Days between scheduling destruction and destruction (AWS: 7–30). */
  pendingWindowDays?: number;
  /** For a key declared in repository config: the resource type that declares it (`aws_kms_key`). */
  resourceType?: string;
  /** For a key declared in repository config: the file it is declared in. */
  file?: string;
  /**
   * Attributes written in config whose value Keywarden could not resolve (`rotation`, `spec`,
   * `pendingWindowDays`, `access`): no rule judges them, and they are counted, never guessed.
   */
  unknown?: string[];
}

/** A fact about keys and secrets read from repository files (src/inspect). */
export type ConfigFact =
  | { kind: 'key'; file: string; line: number; column?: number; key: Partial<ManagedKeyInput> }
  | { kind: 'secret-ref'; file: string; line: number; column?: number; name: string; source: string }
  | { kind: string; file: string; line: number; column?: number; [k: string]: unknown };

export interface PolicyInput {
  /** RFC 3339 time of the decision. Required: wasm has no clock. */
  now: string;
  repo?: { name?: string; visibility?: Visibility; defaultBranch?: string; files?: string[] };
  event?: { kind?: string; branch?: string; sha?: string; pullRequest?: number };
  findings?: Finding[];
  keys?: ManagedKeyInput[];
  facts?: ConfigFact[];
}

export type { Decision, DecisionAction, DecisionLocation, DecisionSubject, Violation } from '../model/decision.js';
export { DECISION_SCHEMA, INPUT_SCHEMA } from './input-schema.js';
export { validateDecision };

/** The input's item lists: each item is judged on its own (see `PartialDecisionInfo`). */
export type ItemKind = 'keys' | 'findings' | 'facts';

// The validators are generated at build time from the schemas by ajv's standalone code
// (scripts/generate-validators.ts): no command compiles a schema when it runs.
type Validator = ValidateFunction;
const validateItem: Record<ItemKind, Validator> = { keys: validateKeyItem, findings: validateFindingItem, facts: validateFactItem };

type SchemaError = { instancePath: string; message?: string | undefined; keyword: string };

/** Schema errors as typed problems; `prefix` is the JSON pointer of the validated value inside the input. */
function problemsOf(errors: readonly SchemaError[], prefix = ''): KeywardenError[] {
  return errors.map((e) => {
    const path = `${prefix}${e.instancePath}`;
    return new KeywardenError(ErrorCode.POLICY_EVAL, `input${path.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')} ${e.message ?? 'is invalid'}.`, {
      fault: 'user',
      hint: 'See schemas/input.schema.json; `now` and every timestamp are RFC 3339 (2026-01-31T12:00:00Z).',
      location: { file: 'input' },
      details: { path, keyword: e.keyword },
    });
  });
}

const MAX_PROBLEMS = 50;

/** The parts of an input that are not items, validated and prepared (`nowMs`, `repo.files` defaulted). */
export interface PreparedContext {
  now: string;
  nowMs: number;
  repo: NonNullable<PolicyInput['repo']> & { files: string[] };
  event: NonNullable<PolicyInput['event']>;
  /** The item lists as given (not yet validated item by item); `keys` undefined when the input has none. */
  items: { keys: unknown[] | undefined; findings: unknown[]; facts: unknown[] };
  /** Every other top-level field, kept for custom modules. */
  rest: Json;
}

/**
 * Validate everything but the items of `findings`, `keys` and `facts` (`validateItems` does
 * those, so a cached item need not be validated again). Throws a `PolicyError`.
 */
export function prepareContext(input: unknown): PreparedContext {
  // Invalid: let the whole-input validation list every problem, items included.
  if (!validateInputTop(input)) {
    prepareInput(input);
    throw new PolicyError(problemsOf(validateInputTop.errors ?? []).slice(0, MAX_PROBLEMS));
  }
  const { now, repo, event, findings, keys, facts, ...rest } = input as unknown as PolicyInput;
  const nowMs = parseNow(now);
  return { now, nowMs, repo: { ...repo, files: repo?.files ?? [] }, event: { ...event }, items: { keys, findings: findings ?? [], facts: facts ?? [] }, rest };
}

/** Problems of the given items (`[kind, index in the input, item]`), at most 50, as `prepareInput` reports them. */
export function validateItems(items: Iterable<readonly [ItemKind, number, unknown]>): KeywardenError[] {
  const out: KeywardenError[] = [];
  for (const [kind, index, item] of items) {
    const v = validateItem[kind];
    if (!v(item)) out.push(...problemsOf(v.errors ?? [], `/${kind}/${index}`));
    if (out.length >= MAX_PROBLEMS) break;
  }
  return out.slice(0, MAX_PROBLEMS);
}

/** A valid item with the fields the generated Rego reads (keys and key facts get `rotatedAtMs`, `specFamily`, …). */
export function prepareItem(kind: ItemKind, item: unknown): unknown {
  if (kind === 'keys') return prepareKey(item as Partial<ManagedKeyInput>);
  if (kind === 'facts') return prepareFact(item as ConfigFact);
  return item;
}

function parseNow(now: string): number {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) throw new KeywardenError(ErrorCode.POLICY_EVAL, 'input.now is not a valid time.', { fault: 'user', hint: 'Use RFC 3339, e.g. 2026-01-31T12:00:00Z.' });
  return nowMs;
}

const prepareFact = (f: ConfigFact): unknown => (f.kind === 'key' && typeof f.key === 'object' && f.key !== null ? Object.assign({}, f, { key: prepareKey(f.key as Partial<ManagedKeyInput>) }) : f);

/** The policy's key family (`match.family`) of a spec: symmetric, asymmetric or hmac; undefined when unknown. */
export function specClass(spec: string, family = specInfo(spec).family): 'symmetric' | 'asymmetric' | 'hmac' | undefined {
  // One reading of vendor specs (AWS, GCP, Azure, Vault) for live and declared keys; DES stays symmetric.
  return family === '3DES' || family === 'DES' ? 'symmetric' : vendorSpecInfo(spec)?.family;
}

/** Family and size of a backend key spec: `RSA_3072` → RSA/3072, `ECC_NIST_P256` → ECC/256. */
export function specInfo(spec: string): { family: string; bits?: number } {
  const s = spec.toUpperCase();
  let m: RegExpExecArray | null;
  if (/3DES|DES3|TDES|DES_EDE|TRIPLE_DES/.test(s)) return { family: '3DES', bits: 112 };
  if ((m = /^RSA[_-]?(\d+)/.exec(s))) return { family: 'RSA', bits: Number(m[1]) };
  if (/ED25519|EDWARDS25519/.test(s)) return { family: 'ECC', bits: 255 };
  if ((m = /^ECC?_(?:NIST_|SECG_)?P(\d+)/.exec(s))) return { family: 'ECC', bits: Number(m[1]) };
  if ((m = /^HMAC[_-]?(?:SHA)?[_-]?(\d+)/.exec(s))) return { family: 'HMAC', bits: Number(m[1]) };
  if ((m = /^AES[_-]?(\d+)/.exec(s))) return { family: 'AES', bits: Number(m[1]) };
  if (s === 'SYMMETRIC_DEFAULT') return { family: 'AES', bits: 256 };
  if (/^DES/.test(s)) return { family: 'DES', bits: 56 };
  if (s === 'SM2') return { family: 'SM2', bits: 256 };
  return { family: s.split(/[_-]/)[0] ?? s };
}

type Json = Record<string, unknown>;

/**
 * Validate the input and add what the generated Rego reads. Throws a `PolicyError`
 * (code `KW_POLICY_EVAL`) listing every problem.
 */
export function prepareInput(input: unknown): Json {
  if (!validateInputSchema(input)) throw new PolicyError(problemsOf((validateInputSchema.errors ?? []).slice(0, MAX_PROBLEMS)));
  const i = input as unknown as PolicyInput;
  const nowMs = parseNow(i.now);
  return {
    ...i,
    nowMs,
    repo: { ...i.repo, files: i.repo?.files ?? [] },
    event: { ...i.event },
    findings: i.findings ?? [],
    keys: (i.keys ?? []).map((k) => prepareKey(k)),
    facts: (i.facts ?? []).map(prepareFact),
  };
}

/**
 * The key with defaults and derived fields. Built by assignment, not `{ ...k, aliases, … }`: V8
 * makes a spread with overridden properties about ten times slower, and this runs for every key
 * of every decision.
 */
function prepareKey(k: Partial<ManagedKeyInput>): Json {
  const created = k.createdAt ? Date.parse(k.createdAt) : Number.NaN;
  const rotated = k.lastRotatedAt ? Date.parse(k.lastRotatedAt) : created;
  const out: Json = Object.assign({}, k);
  out.aliases = k.aliases ?? [];
  out.labels = k.labels ?? [];
  out.tags = k.tags ?? {};
  out.access = k.access ?? [];
  out.unknown = k.unknown ?? [];
  if (!Number.isNaN(created)) out.createdAtMs = created;
  if (!Number.isNaN(rotated)) out.rotatedAtMs = rotated;
  if (k.spec) {
    const info = specInfo(k.spec);
    out.specFamily = info.family;
    if (info.bits !== undefined) out.specBits = info.bits;
    const cls = specClass(k.spec, info.family);
    if (cls) out.specClass = cls;
  }
  return out;
}


/** Largest input document `parseInputJson` (and `keywarden policy eval`) accepts. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Deepest nesting of arrays and objects in an input document (real inputs nest about 6 deep). */
const MAX_INPUT_DEPTH = 64;

export interface ParseInputOptions {
  /** Shown in messages. Default `input`. */
  name?: string;
  maxBytes?: number;
  maxDepth?: number;
}

/**
 * Parses an input document's JSON text with bounds: the size is checked first, then the nesting
 * depth in one iterative pass over the text (a 100,000-deep array costs a few microseconds and
 * never reaches a recursive walker), then `JSON.parse`. Throws `KW_INPUT_TOO_LARGE`,
 * `KW_INPUT_TOO_DEEP` or `KW_POLICY_EVAL` (not JSON); messages never quote the input.
 *
 * @example
 * const input = parseInputJson(await readFile('input.json', 'utf8'), { name: 'input.json' });
 */
export function parseInputJson(text: string, options: ParseInputOptions = {}): unknown {
  const name = options.name ?? 'input';
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  const maxDepth = options.maxDepth ?? MAX_INPUT_DEPTH;
  if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes)) throw inputTooLarge(name, maxBytes);
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        const { line, column } = lineColumnOf(text, i);
        throw new KeywardenError(ErrorCode.INPUT_TOO_DEEP, `The input ${name} nests arrays and objects more than ${maxDepth} levels deep (at line ${line}, column ${column}).`, {
          fault: 'user',
          hint: 'An input document (schemas/input.schema.json) nests a few levels; check how it was generated.',
          location: { file: name, line, column },
          details: { maxDepth },
        });
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KeywardenError(ErrorCode.POLICY_EVAL, `The input ${name} is not valid JSON.`, { fault: 'user', hint: 'Check the file with a JSON validator.', location: { file: name } });
  }
}

export function inputTooLarge(name: string, maxBytes: number): KeywardenError {
  return new KeywardenError(ErrorCode.INPUT_TOO_LARGE, `The input ${name} is larger than ${maxBytes} bytes.`, {
    fault: 'user',
    hint: 'Pass a smaller input: an input document holds findings, keys and facts, not file contents.',
    location: { file: name },
    details: { maxBytes },
  });
}

