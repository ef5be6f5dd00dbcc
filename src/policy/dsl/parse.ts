/**
 * YAML → validated `PolicyAst`, with every problem located by file, line and column.
 *
 * Hostile input is expected: the text is size-capped before parsing, aliases are capped while
 * converting (alias bombs), nesting depth is capped, a stack overflow inside the YAML library is
 * caught and reported, and every foreign error becomes a typed `KeywardenError`. Pure: no I/O.
 */
import type { ErrorObject } from 'ajv';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ErrorCode, type KeywardenError } from '../../errors.js';
import type { Loc, PolicyAst } from './ast.js';
import { buildAst, type PathSeg, type PolicyProblem } from './build-ast.js';
import { PolicyError, policyProblem } from './policy-error.js';
import { COMPARISON_PATTERN, DATE_PATTERN, DURATION_PATTERN, NAME_PATTERN } from './schema.js';
import { validatePolicySchema } from '../generated/validate-policy-schema.js';
import { lineColumnOf } from '../../util/line-column.js';
import { prescanYaml } from '../../util/yaml-prescan.js';

export interface ParsePolicyOptions {
  /** Shown in every location; also the base for `extends:` paths. Default `policy.yml`. */
  file?: string;
  /** Refuse bigger inputs without parsing them. Default 256 KiB. */
  maxBytes?: number;
  /** Deepest allowed nesting of mappings and sequences. Default 32. */
  maxDepth?: number;
  /** Most alias expansions allowed (YAML's `maxAliasCount`). Default 64. */
  maxAliases?: number;
}

/**
 * On failure, `versioned` says whether the text was YAML whose top level is a mapping with
 * `version: 1`: whether it claims to be a policy. A file that does not (another file named by
 * `extends:`) gets no message quoting its content.
 */
export type ValidatePolicyResult = { ok: true; ast: PolicyAst; errors: [] } | { ok: false; errors: KeywardenError[]; versioned?: boolean };

// Generated at build time from POLICY_SCHEMA by ajv's standalone code (scripts/generate-validators.ts,
// `verbose`: the errors carry `parentSchema`): compiling the schema cost every command ~100 ms.
const validateSchema = validatePolicySchema;

/**
 * Parse and validate a policy, returning all problems at once.
 *
 * @example
 * const r = validatePolicy('version: 1\nkeys: []\n', { file: '.github/keywarden.yml' });
 * if (!r.ok) for (const e of r.errors) console.log(e.location, e.code, e.message);
 */
export function validatePolicy(text: string, options: ParsePolicyOptions = {}): ValidatePolicyResult {
  const file = options.file ?? 'policy.yml';
  const maxBytes = options.maxBytes ?? 256 * 1024;
  const at = (line: number, column: number) => ({ file, line, column });
  if (typeof text !== 'string') return fail([policyProblem(ErrorCode.POLICY_PARSE, 'The policy is not text.', 'Pass the file content as a UTF-8 string.', at(1, 1), { reason: 'not-text' })]);
  // Cheap upper bound first (UTF-8 is at most 3 bytes per UTF-16 unit), exact count only if needed.
  if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes))
    return fail([
      policyProblem(ErrorCode.POLICY_TOO_LARGE, `The policy is larger than ${maxBytes} bytes.`, 'A key policy is a few kilobytes; split it with `extends:` or remove generated content.', at(1, 1), {
        reason: 'too-large',
        maxBytes,
      }),
    ]);
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const { line, col } = position(text, nul);
    return fail([policyProblem(ErrorCode.POLICY_PARSE, 'The policy contains a NUL byte; it looks like a binary file.', 'Point Keywarden at the YAML policy file.', at(line, col), { reason: 'binary' })]);
  }

  const pre = prescanYaml(text, options.maxDepth ?? 32, options.maxAliases ?? 64);
  if (pre?.reason === 'too-deep')
    return fail([
      policyProblem(ErrorCode.POLICY_PARSE, `The policy is nested more than ${options.maxDepth ?? 32} levels deep.`, 'Policies need only a few levels of nesting; check for runaway brackets, dashes or indentation.', at(pre.line, pre.column), {
        reason: 'too-deep',
      }),
    ]);
  // Resolving aliases costs the YAML library time per alias and document size; refuse floods early.
  if (pre?.reason === 'alias-limit')
    return fail([
      policyProblem(ErrorCode.POLICY_PARSE, `The policy uses more than ${options.maxAliases ?? 64} aliases (a YAML alias bomb?).`, 'Use fewer anchors and aliases (`&name` / `*name`); repeat small values instead.', at(pre.line, pre.column), {
        reason: 'alias-limit',
      }),
    ]);

  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2', schema: 'core', strict: true, keepSourceTokens: false });
  } catch (e) {
    // The YAML library recurses per nesting level; absurd nesting can overflow the stack.
    return fail([
      policyProblem(ErrorCode.POLICY_PARSE, 'The policy could not be parsed: it is nested too deeply.', 'Policies need only a few levels of nesting; check for runaway brackets or dashes.', at(1, 1), {
        reason: e instanceof RangeError ? 'too-deep' : 'yaml',
      }),
    ]);
  }
  const lp = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return at(p.line, p.col);
  };
  const yamlErrors = doc.errors.map((err) =>
    policyProblem(ErrorCode.POLICY_PARSE, `YAML syntax: ${firstLine(err.message)}`, yamlHint(err.code), lp(err.pos[0]), { reason: `yaml.${err.code.toLowerCase()}` }),
  );
  if (yamlErrors.length > 0) return fail(yamlErrors);

  const structural = checkStructure(doc, options.maxDepth ?? 32, options.maxAliases ?? 64, lp);
  if (structural.length > 0) return fail(structural);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: options.maxAliases ?? 64 });
  } catch (e) {
    const alias = firstAlias(doc);
    return fail([
      policyProblem(
        ErrorCode.POLICY_PARSE,
        e instanceof ReferenceError ? 'The policy expands too many aliases (a YAML alias bomb?).' : 'The policy could not be read as data.',
        'Use fewer anchors and aliases (`&name` / `*name`); repeat small values instead.',
        alias ? lp(alias) : at(1, 1),
        { reason: e instanceof ReferenceError ? 'alias-limit' : 'yaml-data' },
      ),
    ]);
  }

  const locate = (path: readonly PathSeg[], where: 'key' | 'value' = 'value'): Loc => {
    const offset = nodeOffset(doc, path, where);
    const p = offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
    return { file, line: p.line, column: p.col, path: pointer(path) };
  };
  const problems: PolicyProblem[] = [];
  if (!validateSchema(value)) problems.push(...schemaProblems(validateSchema.errors ?? []));
  const built = buildAst(value, file, locate);
  // A place the schema already rejected needs no second, semantic message.
  const schemaPaths = new Set(problems.map((p) => pointer(p.path)));
  problems.push(...built.problems.filter((p) => !schemaPaths.has(pointer(p.path))));

  if (problems.length === 0) return { ok: true, ast: built.ast, errors: [] };
  const seen = new Set<string>();
  const errors: KeywardenError[] = [];
  for (const p of problems) {
    const l = locate(p.path, p.at);
    const id = `${l.line}:${l.column}:${p.reason}:${p.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    errors.push(policyProblem(ErrorCode.POLICY_INVALID, p.message, p.hint, { file, line: l.line, column: l.column }, { reason: p.reason, path: l.path }));
  }
  const r = fail(errors);
  if (!r.ok) r.versioned = typeof value === 'object' && value !== null && !Array.isArray(value) && (value as Record<string, unknown>).version === 1;
  return r;
}

/**
 * Validate an already-parsed value (from `definePolicy`): schema and semantic checks, located by
 * JSON pointer only. Returns every problem.
 */
export function validatePolicyValue(value: unknown, file: string): KeywardenError[] {
  const locate = (path: readonly PathSeg[]): Loc => ({ file, line: 1, column: 1, path: pointer(path) });
  const problems: PolicyProblem[] = [];
  if (!validateSchema(value)) problems.push(...schemaProblems(validateSchema.errors ?? []));
  const schemaPaths = new Set(problems.map((p) => pointer(p.path)));
  problems.push(...buildAst(value, file, locate).problems.filter((p) => !schemaPaths.has(pointer(p.path))));
  return problems.map((p) => policyProblem(ErrorCode.POLICY_INVALID, p.message, p.hint, { file, line: 1, column: 1 }, { reason: p.reason, path: pointer(p.path) }));
}

/** Parse and validate, or throw a `PolicyError` carrying every problem. */
export function parsePolicy(text: string, options: ParsePolicyOptions = {}): PolicyAst {
  const r = validatePolicy(text, options);
  if (!r.ok) throw new PolicyError(r.errors);
  return r.ast;
}

function fail(errors: KeywardenError[]): ValidatePolicyResult {
  errors.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0));
  return { ok: false, errors };
}


function position(text: string, offset: number): { line: number; col: number } {
  const { line, column } = lineColumnOf(text, offset);
  return { line, col: column };
}

const firstLine = (s: string): string => (s.split('\n')[0] ?? s).replace(/ at line \d+, column \d+:?$/, '').slice(0, 200);

function yamlHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'Each mapping may have a key only once; merge the two entries.';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'Check the indentation (spaces, not tabs) and quote values that contain ": " or "#".';
    case 'MULTIPLE_DOCS':
      return 'A policy file holds one YAML document; remove the extra "---".';
    case 'TAB_AS_INDENT':
      return 'Indent with spaces.';
    case 'RESOURCE_EXHAUSTION':
      return 'The policy is nested or repeated far more than any policy needs; check for runaway brackets or dashes.';
    default:
      return 'Check the YAML syntax near this place; quoting the value often helps.';
  }
}

/** Depth and size limits on the parsed tree, without recursion (the input may be hostile). */
function checkStructure(doc: Document.Parsed, maxDepth: number, maxAliases: number, lp: (o: number) => { file: string; line: number; column: number }): KeywardenError[] {
  const stack: Array<[unknown, number]> = [[doc.contents, 1]];
  let nodes = 0;
  let aliases = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (isAlias(node) && ++aliases > maxAliases)
      return [
        policyProblem(ErrorCode.POLICY_PARSE, `The policy uses more than ${maxAliases} aliases (a YAML alias bomb?).`, 'Use fewer anchors and aliases (`&name` / `*name`); repeat small values instead.', lp(node.range?.[0] ?? 0), {
          reason: 'alias-limit',
        }),
      ];
    if (++nodes > 200_000)
      return [policyProblem(ErrorCode.POLICY_TOO_LARGE, 'The policy has too many YAML nodes.', 'Keep policies small; use `extends:` for shared parts.', lp(0), { reason: 'too-many-nodes' })];
    if (isMap(node) || isSeq(node)) {
      if (depth > maxDepth) {
        const off = node.range?.[0] ?? 0;
        return [policyProblem(ErrorCode.POLICY_PARSE, `The policy is nested more than ${maxDepth} levels deep.`, 'Policies need only a few levels; check for runaway nesting.', lp(off), { reason: 'too-deep', maxDepth })];
      }
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          stack.push([item.key, depth + 1]);
          stack.push([item.value, depth + 1]);
        } else stack.push([item, depth + 1]);
      }
    }
  }
  return [];
}

function firstAlias(doc: Document.Parsed): number | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const n = stack.pop();
    if (isAlias(n)) return n.range?.[0];
    if (isMap(n) || isSeq(n)) for (const it of n.items as unknown[]) stack.push(isPair(it) ? it.value : it);
  }
  return undefined;
}

/** Offset of the node at `path` (or the deepest existing ancestor). */
function nodeOffset(doc: Document.Parsed, path: readonly PathSeg[], where: 'key' | 'value'): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = (node as Node | null)?.range?.[0];
  for (const [i, seg] of path.entries()) {
    const last = i === path.length - 1;
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === String(seg));
      if (!pair) return best;
      const keyOff = (pair.key as Node | null)?.range?.[0];
      if (last && where === 'key') return keyOff ?? best;
      const v = pair.value as Node | null;
      node = v;
      best = v?.range?.[0] ?? keyOff ?? best;
    } else if (isSeq(node) && typeof seg === 'number') {
      const it = node.items[seg] as Node | undefined;
      if (!it) return best;
      node = it;
      best = it.range?.[0] ?? best;
    } else return best;
  }
  return best;
}

const pointer = (path: readonly PathSeg[]): string => path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

function decodePointer(p: string): PathSeg[] {
  if (p === '') return [];
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

const PATTERN_TEXT: Record<string, [string, string]> = {
  [DURATION_PATTERN]: ['is not a duration', 'Write a whole number and a unit: h, d, w or y, e.g. "90d".'],
  [COMPARISON_PATTERN]: ['is not a comparison', 'Write an operator (>=, <=, >, <, ==) and a duration, e.g. ">= 14d".'],
  [DATE_PATTERN]: ['is not a date', 'Write dates as YYYY-MM-DD, e.g. 2027-01-31.'],
  [NAME_PATTERN]: ['is not a valid name', 'Use lower-case letters, digits, "-" and "_", starting with a letter.'],
  ['^sha256:[0-9a-f]{64}$']: ['is not a fingerprint', 'Write "sha256:" and 64 lower-case hex digits, as `keywarden scan` prints them.'],
};

function schemaProblems(errors: readonly ErrorObject[]): PolicyProblem[] {
  // A failed anyOf also reports each branch's own failure; keep only the anyOf summary.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath);
  const out: PolicyProblem[] = [];
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && anyOfPaths.some((p) => e.schemaPath.startsWith(`${p}/`))) continue;
    const path = decodePointer(e.instancePath);
    const where = path.length === 0 ? 'the policy' : `\`${displayPath(path)}\``;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required': {
        const prop = String(params.missingProperty);
        out.push({ reason: 'schema.required', path, message: `${where} is missing the required property \`${prop}\`.`, hint: `Add \`${prop}:\`.` });
        break;
      }
      case 'additionalProperties': {
        const prop = String(params.additionalProperty);
        const allowed = Object.keys((e.parentSchema?.properties as Record<string, unknown> | undefined) ?? {}).filter((k) => k !== '$schema');
        const near = closest(prop, allowed);
        out.push({
          reason: 'schema.unknown-property',
          path: [...path, prop],
          at: 'key',
          message: `Unknown property \`${prop}\` in ${where}.`,
          hint: near ? `Did you mean \`${near}\`? Allowed here: ${allowed.join(', ')}.` : `Allowed here: ${allowed.join(', ') || '(none)'}.`,
        });
        break;
      }
      case 'enum':
        out.push({ reason: 'schema.enum', path, message: `${where} must be one of: ${(params.allowedValues as unknown[]).join(', ')}.`, hint: 'Pick one of the listed values.' });
        break;
      case 'const':
        out.push({ reason: 'schema.const', path, message: `${where} must be ${JSON.stringify(params.allowedValue)}.`, hint: path[0] === 'version' ? 'Only policy language version 1 exists: `version: 1`.' : 'Use the listed value.' });
        break;
      case 'pattern': {
        const [what, hint] = PATTERN_TEXT[String(params.pattern)] ?? ['does not have the expected form', `It must match ${String(params.pattern)}.`];
        out.push({ reason: 'schema.pattern', path, message: `${where} ${what}.`, hint });
        break;
      }
      case 'type':
        out.push({ reason: 'schema.type', path, message: `${where} must be ${article(String(params.type))}.`, hint: 'Check the indentation and the value type; quote strings that look like numbers or booleans.' });
        break;
      case 'anyOf':
        out.push({ reason: 'schema.shape', path, message: `${where} has the wrong shape.`, hint: describeAnyOf(e.parentSchema) });
        break;
      case 'minLength':
        if (params.limit === 1) {
          out.push({ reason: 'schema.empty', path, message: `${where} must not be empty.`, hint: 'Write a value, or remove the property.' });
          break;
        }
      // falls through
      default:
        out.push({ reason: `schema.${e.keyword}`, path, message: `${where} ${e.message ?? 'is invalid'}.`, hint: 'See schemas/policy.schema.json for the allowed values.' });
    }
  }
  return out;
}

/** `keys[0].rotation.max-age`: how people read a place in YAML. */
export const displayPath = (path: readonly PathSeg[]): string =>
  path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

const article = (t: string): string => (t.includes(',') ? `one of: ${t}` : /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

function describeAnyOf(schema: unknown): string {
  const s = schema as { description?: string; anyOf?: Array<{ type?: string; description?: string }> } | undefined;
  if (s?.description) return s.description;
  const types = (s?.anyOf ?? []).map((b) => (b.type === 'array' ? 'a list' : b.type === 'string' ? 'a string' : b.type === 'object' ? 'a mapping' : 'a value'));
  return `Write ${types.join(' or ')}.`;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word.slice(0, 64), c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
