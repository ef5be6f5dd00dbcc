/**
 * Values as the extractors evaluate them, and IAM policy documents normalised into
 * `PolicyStatement`s. Terraform (`jsonencode`, heredoc JSON, `aws_iam_policy_document`) and
 * CloudFormation (`KeyPolicy`) both produce `Dyn` values, so one normaliser serves both.
 *
 * Walks are iterative or depth-capped and count their steps against a `Budget`: a value built by a
 * hostile file (a local that doubles itself forty times) cannot make them run long.
 */
import { ABSENT, known, unknown, type PolicyStatement, type Position, type Value } from './facts.js';

/** A value Keywarden could not resolve. `ref` names the reference when there is one (`var.x`, `AWS::AccountId`). */
export class Unresolved {
  constructor(
    readonly reason: string,
    readonly ref?: string,
  ) {}
}

/**
 * The parts of `list` joined by `sep` (Terraform's `join`, CloudFormation's `Fn::Join`): scalars
 * as text, unresolved values and partial strings kept in place. Undefined when an element is a
 * collection, which neither language joins.
 */
export function joinParts(sep: string, list: readonly unknown[]): (string | Unresolved)[] | undefined {
  const parts: (string | Unresolved)[] = [];
  for (const [i, x] of list.entries()) {
    if (i > 0) parts.push(sep);
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') parts.push(String(x));
    else if (x instanceof Unresolved) parts.push(x);
    else if (x instanceof PartialString) parts.push(...x.parts);
    else return undefined;
  }
  return parts;
}

/** A string with unresolved parts: `arn:aws:iam::${data.aws_caller_identity.current.account_id}:root`. */
export class PartialString {
  constructor(readonly parts: readonly (string | Unresolved)[]) {}
  /** The text with each unresolved part as `${ref}` (or `${?}`). */
  render(): string {
    return this.parts.map((p) => (typeof p === 'string' ? p : `\${${p.ref ?? '?'}}`)).join('');
  }
  /** The first reason, for messages. */
  reason(): string {
    const u = this.parts.find((p): p is Unresolved => p instanceof Unresolved);
    return u?.reason ?? 'holds an unresolved reference';
  }
}

/** A policy document already normalised (an `aws_iam_policy_document` data source). */
export class PolicyDocument {
  constructor(readonly statements: Value<PolicyStatement[]>) {}
}

export type DynObject = { [key: string]: Dyn };
export type Dyn = null | boolean | number | string | Dyn[] | DynObject | Unresolved | PartialString | PolicyDocument;

export function isObject(v: Dyn): v is DynObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Unresolved) && !(v instanceof PartialString) && !(v instanceof PolicyDocument);
}

/** Shared step counter: once spent, evaluation stops and what is left is unknown. */
export class Budget {
  spent = false;
  /** `parent`: a budget every step is also charged to (a whole run's, across module instances). */
  constructor(
    private left: number,
    private readonly parent?: Budget,
  ) {}
  take(n = 1): boolean {
    this.left -= n;
    if (this.left < 0) this.spent = true;
    if (this.parent && !this.parent.take(n)) this.spent = true;
    return !this.spent;
  }
}

export const BUDGET_REASON = 'evaluation budget exhausted (the file builds an unusually large value)';

/** Where each statement object was written, when the extractor knows. */
export type Positions = WeakMap<object, Position>;

const MAX_POLICY_DEPTH = 64;

/**
 * A policy document (the parsed JSON, a `jsonencode` object or a CloudFormation `KeyPolicy`) as
 * statements. `at` is where the policy attribute is, the fallback position of each statement.
 */
export function statementsFromDocument(doc: Dyn, at: Position, positions: Positions, budget: Budget): Value<PolicyStatement[]> {
  if (doc instanceof PolicyDocument) return doc.statements;
  if (doc instanceof Unresolved) return unknown(doc.reason, at);
  if (doc instanceof PartialString) return unknown(`the policy ${doc.reason()}`, at);
  if (typeof doc === 'string') return statementsFromJson(doc, at, budget);
  if (!isObject(doc)) return unknown('the policy is not a JSON object', at);
  const raw = doc['Statement'];
  if (raw === undefined) return known([], at);
  const list = Array.isArray(raw) ? raw : [raw];
  const out: PolicyStatement[] = [];
  for (const st of list) {
    if (!budget.take(1)) return unknown(BUDGET_REASON, at);
    if (st instanceof Unresolved) return unknown(`a statement ${st.reason}`, at);
    if (!isObject(st)) return unknown('a statement is not an object', at);
    out.push(normaliseStatement(st, positions.get(st) ?? at, budget));
  }
  return known(out, at);
}

/** A JSON policy string (a heredoc, or `KeyPolicy` given as a string). */
export function statementsFromJson(text: string, at: Position, budget: Budget): Value<PolicyStatement[]> {
  if (!budget.take(Math.ceil(text.length / 64))) return unknown(BUDGET_REASON, at);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return unknown('the policy is not valid JSON', at);
  }
  const dyn = fromJson(parsed, 0, budget);
  if (dyn instanceof Unresolved) return unknown(dyn.reason, at);
  return statementsFromDocument(dyn, at, new WeakMap(), budget);
}

/**
 * A JSON policy whose text holds unresolved interpolations: each becomes a placeholder the JSON
 * parser keeps inside its string, and then a `PartialString` again. A reference outside a string
 * (`"Principal": ${jsonencode(var.p)}`) makes the policy unknown.
 */
export function statementsFromPartialJson(text: PartialString, at: Position, budget: Budget): Value<PolicyStatement[]> {
  const holes: Unresolved[] = [];
  let json = '';
  for (const p of text.parts) {
    if (typeof p === 'string') {
      if (p.includes('\uE000') || p.includes('\uE001')) return unknown('the policy text holds private-use characters', at);
      json += p;
    } else {
      json += `\uE000${holes.length}\uE001`;
      holes.push(p);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return unknown(`the policy JSON is built from a reference outside a string (${text.reason()})`, at);
  }
  const dyn = fromJson(parsed, 0, budget, holes);
  if (dyn instanceof Unresolved) return unknown(dyn.reason, at);
  return statementsFromDocument(dyn, at, new WeakMap(), budget);
}

/** Parsed JSON as a `Dyn`, depth-capped and counted; `holes` turn placeholders back into unresolved parts. */
export function fromJson(v: unknown, depth: number, budget: Budget, holes?: readonly Unresolved[]): Dyn {
  if (!budget.take(1)) return new Unresolved(BUDGET_REASON);
  if (depth > MAX_POLICY_DEPTH) return new Unresolved('the policy is nested too deeply');
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'string') return holes && v.includes('\uE000') ? withHoles(v, holes) : v;
  if (Array.isArray(v)) return v.map((x) => fromJson(x, depth + 1, budget, holes));
  if (typeof v === 'object') {
    const out: DynObject = Object.create(null) as DynObject;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = fromJson(x, depth + 1, budget, holes);
    return out;
  }
  return new Unresolved('the policy holds a value JSON cannot');
}

function withHoles(s: string, holes: readonly Unresolved[]): Dyn {
  const parts: (string | Unresolved)[] = [];
  const re = /\uE000(\d+)\uE001/g;
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index > last) parts.push(s.slice(last, m.index));
    parts.push(holes[Number(m[1])] ?? new Unresolved('an unresolved reference'));
    last = m.index + m[0].length;
  }
  if (last < s.length) parts.push(s.slice(last));
  return parts.length === 1 && parts[0] instanceof Unresolved ? parts[0] : new PartialString(parts);
}

function normaliseStatement(st: DynObject, at: Position, budget: Budget): PolicyStatement {
  const sid = typeof st['Sid'] === 'string' ? st['Sid'] : undefined;
  const effectRaw = st['Effect'];
  let effect: Value<'Allow' | 'Deny'>;
  if (effectRaw === undefined) effect = ABSENT;
  else if (effectRaw === 'Allow' || effectRaw === 'Deny') effect = known(effectRaw, at);
  else if (effectRaw instanceof Unresolved) effect = unknown(effectRaw.reason, at);
  else effect = unknown('Effect is neither Allow nor Deny', at);
  return {
    sid,
    effect,
    principals: principalsOf(st['Principal'], at, budget),
    notPrincipals: principalsOf(st['NotPrincipal'], at, budget),
    actions: stringList(st['Action'], at, budget),
    notActions: stringList(st['NotAction'], at, budget),
    resources: stringList(st['Resource'], at, budget),
    hasConditions: st['Condition'] !== undefined && !(isObject(st['Condition']) && Object.keys(st['Condition']).length === 0),
    line: at.line,
    column: at.column,
  };
}

/** A string or list of strings; a templated string is kept rendered; a wholly unresolved element makes the list unknown. */
export function stringList(v: Dyn | undefined, at: Position, budget: Budget): Value<string[]> {
  if (v === undefined) return ABSENT;
  if (v instanceof Unresolved) return unknown(v.reason, at);
  const items = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const item of items) {
    if (!budget.take(1)) return unknown(BUDGET_REASON, at);
    if (typeof item === 'string') out.push(item);
    else if (item instanceof PartialString) out.push(item.render());
    else if (item instanceof Unresolved) return unknown(item.reason, at);
    else if (typeof item === 'number' || typeof item === 'boolean') out.push(String(item));
    else return unknown('an element is not a string', at);
  }
  return known(out, at);
}

/** `"*"`, `{"AWS": …}`, `{"Service": …}`: AWS principals as written, other types as `Type:value`. */
function principalsOf(v: Dyn | undefined, at: Position, budget: Budget): Value<string[]> {
  if (v === undefined) return ABSENT;
  if (v === '*') return known(['*'], at);
  if (v instanceof Unresolved) return unknown(v.reason, at);
  if (!isObject(v)) return unknown('Principal is neither "*" nor an object', at);
  const out: string[] = [];
  for (const [type, value] of Object.entries(v)) {
    const list = stringList(value, at, budget);
    if (list.state === 'unknown') return list;
    if (list.state !== 'known') continue;
    for (const p of list.value) out.push(type === 'AWS' ? p : `${type}:${p}`);
  }
  return known(out, at);
}

// ---------------------------------------------------------------------------------------------
// Evaluated values → tagged values. Terraform and CloudFormation both convert strings to numbers
// and booleans where the attribute's type asks ("30", "true"); that is their rule, not a guess.

/** `v` (undefined: not written; null: Terraform's "not set") as a tagged value. */
export function dynValue<T>(v: Dyn | undefined, at: Position | undefined, name: string, convert: (v: Dyn) => T | undefined, what: string): Value<T> {
  if (v === undefined || v === null) return ABSENT;
  if (v instanceof Unresolved) return unknown(v.reason, at);
  if (v instanceof PartialString) return unknown(v.reason(), at);
  const c = convert(v);
  return c === undefined ? unknown(`${name} is not ${what}`, at) : known(c, at);
}

const NUMERIC = /^-?\d+(\.\d+)?$/;
export const asBool = (v: Dyn): boolean | undefined => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined);
export const asNumber = (v: Dyn): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v) ? Number(v) : undefined);
export const asString = (v: Dyn): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
