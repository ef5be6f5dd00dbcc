/**
 * CloudFormation (YAML with the short-form intrinsic tags, or JSON; CDK synth output is the same)
 * → facts: `AWS::KMS::Key` and `AWS::KMS::Alias`, each at its logical id and each value at its
 * property.
 *
 * `Ref` to a parameter with a literal `Default` resolves to it; `Fn::Sub` and `Fn::Join` of
 * resolvable parts resolve, and keep unresolved parts (`${AWS::AccountId}`) in place;
 * `Fn::FindInMap` reads the template's `Mappings`, `Fn::Select` a literal list; `Fn::If` takes the
 * branch its condition picks (the `Conditions` section, with `Fn::Equals`/`And`/`Or`/`Not` over the
 * same values: parameter Defaults, as for `Ref`), and when the condition cannot be decided the value
 * is known only if both branches agree; a resource is left out only when its own `Condition` is
 * false whatever the parameters (some deployment creates it otherwise); `Ref AWS::NoValue` leaves
 * the property (or list element) out. Every other intrinsic (`Fn::GetAtt`, `Fn::ImportValue`, …) is `unknown`, with the reason. Pure.
 */
import { isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import type { KeyUsage } from '../model/keys.js';
import { ABSENT, known, specInfo, unknown, type AliasFact, type Fact, type KeyFact, type Position, type Problem, type Value } from './facts.js';
import {
  asBool,
  asNumber,
  asString,
  Budget,
  dynValue,
  joinParts,
  PartialString,
  statementsFromDocument,
  statementsFromJson,
  Unresolved,
  type Dyn,
  type DynObject,
  type Positions,
} from './policy-document.js';
import { CFN_INTRINSICS, type LoadedYaml, type YamlWalker } from './yaml-doc.js';

const INTRINSIC_NAMES = new Set<string>(CFN_INTRINSICS);

/** True when the document's top level looks like a CloudFormation template. */
export function isCloudFormation(y: LoadedYaml, index = 0): boolean {
  const w = y.walker;
  const top = w.deref(y.docs[index]?.contents);
  if (!top || !isMap(top)) return false;
  if (w.pair(top, 'AWSTemplateFormatVersion')) return true;
  const resources = w.get(top, 'Resources');
  if (!resources || !isMap(resources)) return false;
  for (const p of resources.items.slice(0, 1_000)) {
    const t = w.text(w.get(w.deref(p.value) ?? undefined, 'Type'));
    if (t !== undefined && /^(AWS|Alexa|Custom)::/.test(t)) return true;
  }
  return false;
}

/**
 * Facts from every template document of a parsed file.
 *
 * @example
 * const y = loadYaml('kms.yaml', text, false, problems);
 * const facts = y ? inspectCloudFormation('kms.yaml', y, problems) : [];
 */
export function inspectCloudFormation(file: string, y: LoadedYaml, _problems: Problem[]): Fact[] {
  const facts: Fact[] = [];
  for (let i = 0; i < y.docs.length; i++) if (isCloudFormation(y, i)) facts.push(...template(file, y, i));
  return facts;
}

interface Template {
  file: string;
  y: LoadedYaml;
  w: YamlWalker;
  /** Parameters: their literal Default, or undefined when they have none. */
  params: Map<string, YamlNode | undefined>;
  /** Resource logical ids and their types. */
  types: Map<string, string>;
  positions: Positions;
  budget: Budget;
  /** The `Conditions` section, by name. */
  conditions: Map<string, YamlNode | undefined>;
  /** Conditions being evaluated (a cycle is unresolved, not a hang). */
  evaluating: Set<string>;
  /** Inside a condition, a parameter is what the deployment sets, not its Default (see `ref`). */
  inCondition: number;
  /** The `Mappings` section. */
  mappings: YamlNode | undefined;
}

/** `Ref AWS::NoValue`: the property or element is left out. */
const NO_VALUE = new Unresolved('AWS::NoValue');

function template(file: string, y: LoadedYaml, index: number): Fact[] {
  const w = y.walker;
  const top = w.deref(y.docs[index]!.contents)!;
  const t: Template = { file, y, w, params: new Map(), types: new Map(), positions: new WeakMap(), budget: new Budget(200_000), conditions: new Map(), evaluating: new Set(), inCondition: 0, mappings: w.get(top, 'Mappings') };
  const conditions = w.get(top, 'Conditions');
  if (conditions && isMap(conditions))
    for (const p of conditions.items) {
      const name = w.text(w.deref(p.key));
      if (name !== undefined) t.conditions.set(name, w.deref(p.value));
    }
  const params = w.get(top, 'Parameters');
  if (params && isMap(params))
    for (const p of params.items) {
      const name = w.text(w.deref(p.key));
      if (name !== undefined) t.params.set(name, w.get(w.deref(p.value), 'Default'));
    }
  const resources = w.get(top, 'Resources');
  if (!resources || !isMap(resources)) return [];
  const entries: { id: string; at: Position; type: string; props: YamlNode | undefined }[] = [];
  for (const p of resources.items) {
    const keyNode = w.deref(p.key);
    const id = w.text(keyNode);
    const res = w.deref(p.value);
    const type = w.text(w.get(res, 'Type'));
    if (id === undefined || type === undefined) continue;
    t.types.set(id, type);
    // A resource whose `Condition` is false with the template's defaults is not created.
    const cond = w.text(w.get(res, 'Condition'));
    if (cond !== undefined && condition(t, cond, 0, true) === false) continue;
    entries.push({ id, at: y.pos(keyNode?.range?.[0] ?? 0), type, props: w.get(res, 'Properties') });
    if (w.spent) break;
  }
  const facts: Fact[] = [];
  for (const e of entries) {
    const base = { file, line: e.at.line, column: e.at.column, format: 'cloudformation' as const, resourceType: e.type, name: e.id };
    if (e.type === 'AWS::KMS::Key') facts.push(keyFact(t, base, e.props));
    else if (e.type === 'AWS::KMS::Alias') facts.push(aliasFact(t, base, e.props));
  }
  // Aliases onto their keys.
  const keys = new Map<string, KeyFact>();
  for (const f of facts) if (f.kind === 'key') keys.set(f.name, f);
  for (const f of facts) if (f.kind === 'alias' && f.targetKey && f.aliasName.state === 'known') keys.get(f.targetKey)?.aliases.push(f.aliasName.value);
  return facts;
}

interface Prop {
  value: Dyn | undefined;
  at: Position | undefined;
  node: YamlNode | undefined;
}

function prop(t: Template, props: YamlNode | undefined, name: string): Prop {
  const pair = t.w.pair(props, name);
  if (!pair) return { value: undefined, at: undefined, node: undefined };
  const node = t.w.deref(pair.value);
  const at = t.y.pos((pair.key as YamlNode | null)?.range?.[0] ?? 0);
  const value = node ? toDyn(t, node, 0) : null;
  // `!If [c, !Ref AWS::NoValue, …]` that picks NoValue: the property is not written.
  if (value === NO_VALUE) return { value: undefined, at: undefined, node: undefined };
  return { value, at, node };
}

const boolProp = (p: Prop, name: string): Value<boolean> => dynValue(p.value, p.at, name, asBool, 'a boolean');
const numberProp = (p: Prop, name: string): Value<number> => dynValue(p.value, p.at, name, asNumber, 'a number');
const stringProp = (p: Prop, name: string): Value<string> => dynValue(p.value, p.at, name, asString, 'a string');

const USAGE: Record<string, KeyUsage> = {
  ENCRYPT_DECRYPT: 'encrypt-decrypt',
  SIGN_VERIFY: 'sign-verify',
  GENERATE_VERIFY_MAC: 'generate-verify-mac',
  KEY_AGREEMENT: 'key-agreement',
};

type Base = Pick<KeyFact, 'file' | 'line' | 'column' | 'format' | 'resourceType' | 'name'>;

function keyFact(t: Template, base: Base, props: YamlNode | undefined): KeyFact {
  const spec = stringProp(prop(t, props, 'KeySpec'), 'KeySpec');
  const specAt = spec.state === 'absent' ? {} : { line: spec.line, column: spec.column };
  let family: Value<'symmetric' | 'asymmetric' | 'hmac'>;
  let rsaBits: Value<number> = ABSENT;
  if (spec.state === 'unknown') {
    family = unknown(`the key spec ${spec.reason}`, specAt);
    rsaBits = unknown(`the key spec ${spec.reason}`, specAt);
  }
  else {
    const name = spec.state === 'known' ? spec.value : 'SYMMETRIC_DEFAULT';
    const info = name.length <= 64 ? specInfo(name) : undefined;
    if (!info) {
      family = unknown('the key spec is not one Keywarden knows', specAt);
      rsaBits = unknown('the key spec is not one Keywarden knows', specAt);
    } else {
      family = known(info.family, specAt);
      if (info.rsaBits !== undefined) rsaBits = known(info.rsaBits, specAt);
    }
  }
  const usageRaw = stringProp(prop(t, props, 'KeyUsage'), 'KeyUsage');
  const usage: Value<KeyUsage> =
    usageRaw.state !== 'known' ? usageRaw : USAGE[usageRaw.value] ? known(USAGE[usageRaw.value]!, usageRaw) : unknown('KeyUsage is not a KMS key usage Keywarden knows', usageRaw);
  const policyProp = prop(t, props, 'KeyPolicy');
  return {
    ...base,
    kind: 'key',
    provider: 'aws',
    spec,
    usage,
    family,
    rsaBits,
    rotationEnabled: boolProp(prop(t, props, 'EnableKeyRotation'), 'EnableKeyRotation'),
    rotationPeriodDays: numberProp(prop(t, props, 'RotationPeriodInDays'), 'RotationPeriodInDays'),
    deletionWindowDays: numberProp(prop(t, props, 'PendingWindowInDays'), 'PendingWindowInDays'),
    multiRegion: boolProp(prop(t, props, 'MultiRegion'), 'MultiRegion'),
    policy: policyProp.value === undefined || policyProp.value === null ? ABSENT : policyValue(t, policyProp),
    aliases: [],
    extra: { enabled: boolProp(prop(t, props, 'Enabled'), 'Enabled') },
  };
}

function policyValue(t: Template, p: Prop): KeyFact['policy'] {
  const at = p.at ?? { line: 1, column: 1 };
  if (typeof p.value === 'string') return statementsFromJson(p.value, at, t.budget);
  if (p.value instanceof Unresolved) return unknown(`the KeyPolicy: ${p.value.reason}`, at);
  return statementsFromDocument(p.value!, at, t.positions, t.budget);
}

function aliasFact(t: Template, base: Base, props: YamlNode | undefined): AliasFact {
  const target = prop(t, props, 'TargetKeyId');
  const targetKey = target.node ? refTarget(t, target.node) : undefined;
  return {
    ...base,
    kind: 'alias',
    provider: 'aws',
    aliasName: stringProp(prop(t, props, 'AliasName'), 'AliasName'),
    targetKeyId: stringProp(target, 'TargetKeyId'),
    ...(targetKey ? { targetKey } : {}),
  };
}

/** The logical id a `!Ref Key` / `!GetAtt Key.Arn` (either form) names, when it is a KMS key of this template. */
function refTarget(t: Template, node: YamlNode): string | undefined {
  const w = t.w;
  let fn: string | undefined;
  let arg: YamlNode | undefined;
  const tag = node.tag?.startsWith('!') ? node.tag.slice(1) : undefined;
  if (tag) {
    fn = tag;
    arg = node;
  } else if (isMap(node) && node.items.length === 1) {
    const k = w.text(w.deref(node.items[0]!.key));
    if (k === 'Ref' || k === 'Fn::GetAtt') {
      fn = k === 'Ref' ? 'Ref' : 'GetAtt';
      arg = w.deref(node.items[0]!.value);
    }
  }
  let id: string | undefined;
  if (fn === 'Ref') id = arg && isScalar(arg) ? w.text(arg) : undefined;
  else if (fn === 'GetAtt') id = arg && isScalar(arg) ? w.text(arg)?.split('.')[0] : w.text(w.items(arg)[0]);
  if (id === undefined) return undefined;
  const type = t.types.get(id);
  return type === 'AWS::KMS::Key' || type === 'AWS::KMS::ReplicaKey' ? id : undefined;
}

// ---------------------------------------------------------------------------------------------
// YAML nodes → values, intrinsics resolved where their arguments are literal

const PSEUDO = new Set(['AWS::AccountId', 'AWS::Region', 'AWS::Partition', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NotificationARNs', 'AWS::NoValue']);

function toDyn(t: Template, node: YamlNode, depth: number): Dyn {
  const w = t.w;
  if (!t.budget.take(1) || w.spent) return new Unresolved('evaluation budget exhausted');
  if (depth > w.maxDepth) return new Unresolved('the value is nested too deeply');
  const tag = node.tag?.startsWith('!') ? node.tag.slice(1) : undefined;
  if (tag !== undefined && INTRINSIC_NAMES.has(tag)) return intrinsic(t, tag, node, depth);
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return Number(v);
    return String(v);
  }
  if (isSeq(node)) return w.items(node).map((n) => toDyn(t, n, depth + 1)).filter((v) => v !== NO_VALUE);
  if (isMap(node)) {
    if (node.items.length === 1) {
      const k = w.text(w.deref(node.items[0]!.key));
      if (k !== undefined && (k === 'Ref' || k.startsWith('Fn::'))) {
        const arg = w.deref(node.items[0]!.value);
        return arg ? intrinsic(t, k === 'Ref' ? 'Ref' : k.slice(4), arg, depth) : new Unresolved(`${k} has no argument`);
      }
    }
    const out: DynObject = Object.create(null) as DynObject;
    for (const p of node.items) {
      const k = w.text(w.deref(p.key));
      const v = w.deref(p.value);
      if (k === undefined) continue;
      const value = v ? toDyn(t, v, depth + 1) : null;
      if (value !== NO_VALUE) out[k] = value;
    }
    t.positions.set(out, t.y.pos(node.range?.[0] ?? 0));
    return out;
  }
  return new Unresolved('the value is not one Keywarden reads');
}

function intrinsic(t: Template, fn: string, arg: YamlNode, depth: number): Dyn {
  const w = t.w;
  switch (fn) {
    case 'Ref': {
      const name = w.text(arg);
      if (name === undefined) return new Unresolved('Ref has no name');
      return ref(t, name, depth);
    }
    case 'Sub': {
      let template: string | undefined;
      let vars = new Map<string, Dyn>();
      if (isScalar(arg)) template = w.text(arg);
      else if (isSeq(arg)) {
        const [s, m] = w.items(arg);
        template = w.text(s);
        if (m && isMap(m))
          vars = new Map(
            m.items.flatMap((p) => {
              const k = w.text(w.deref(p.key));
              const v = w.deref(p.value);
              return k === undefined ? [] : [[k, v ? toDyn(t, v, depth + 1) : null] as [string, Dyn]];
            }),
          );
      }
      if (template === undefined) return new Unresolved('Fn::Sub has no literal template');
      return sub(t, template, vars, depth);
    }
    case 'Join': {
      const [sepNode, listNode] = w.items(arg);
      const sep = w.text(sepNode);
      if (sep === undefined || !listNode) return new Unresolved('Fn::Join has no literal delimiter');
      const list = toDyn(t, listNode, depth + 1);
      if (!Array.isArray(list)) return list instanceof Unresolved ? list : new Unresolved('Fn::Join of a value that is not a list');
      const parts = joinParts(sep, list);
      return parts ? partial(t, parts) : new Unresolved('Fn::Join of a list that holds collections');
    }
    case 'GetAtt': {
      const text = isScalar(arg) ? w.text(arg) : w.items(arg).map((n) => w.text(n) ?? '?').join('.');
      return new Unresolved(`Fn::GetAtt ${clip(text ?? '?')} is known only after deploy`, text);
    }
    case 'If': {
      const [condNode, yes, no] = w.items(arg);
      const name = condNode ? w.text(condNode) : undefined;
      if (name === undefined || !yes || !no) return new Unresolved('Fn::If needs a condition name and two values');
      const c = condition(t, name, depth + 1);
      if (c === true) return toDyn(t, yes, depth + 1);
      if (c === false) return toDyn(t, no, depth + 1);
      // The condition is known only at deploy: the value is known when both branches agree.
      const a = toDyn(t, yes, depth + 1);
      const b = toDyn(t, no, depth + 1);
      return sameDyn(a, b) ? a : new Unresolved(`Fn::If ${clip(name)}: ${c.reason}`);
    }
    case 'FindInMap': {
      const [mapNode, topNode, secondNode] = w.items(arg);
      const keys = [mapNode, topNode, secondNode].map((n) => (n ? toDyn(t, n, depth + 1) : null));
      if (keys.some((k) => typeof k !== 'string' && typeof k !== 'number')) {
        const why = keys.find((k) => k instanceof Unresolved) as Unresolved | undefined;
        return new Unresolved(`Fn::FindInMap with a key that is not literal${why ? ` (${why.reason})` : ''}`);
      }
      let node: YamlNode | undefined = t.mappings;
      for (const k of keys) node = w.get(node, String(k));
      return node ? toDyn(t, node, depth + 1) : new Unresolved(`Fn::FindInMap ${clip(keys.join('.'))} is not in the template's Mappings`);
    }
    case 'Select': {
      const [indexNode, listNode] = w.items(arg);
      const index = indexNode ? toDyn(t, indexNode, depth + 1) : null;
      const list = listNode ? toDyn(t, listNode, depth + 1) : null;
      const n = typeof index === 'number' ? index : typeof index === 'string' && /^\d{1,9}$/.test(index) ? Number(index) : undefined;
      const i = n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
      if (i === undefined || !Array.isArray(list)) return list instanceof Unresolved ? list : new Unresolved('Fn::Select of a value that is not a literal list');
      return i < list.length ? list[i]! : new Unresolved('Fn::Select index is past the end of the list');
    }
    case 'Equals':
    case 'And':
    case 'Or':
    case 'Not':
    case 'Condition': {
      return conditionValue(t, fn, arg, depth + 1);
    }
    default:
      return new Unresolved(`Fn::${fn} is not evaluated`);
  }
}

/**
 * A named condition of the `Conditions` section: true, false, or unresolved with the reason.
 * `deployTime`: parameters are what a deployment sets, not their Defaults (for a resource's own
 * `Condition`: a resource some deployment creates must be judged).
 */
function condition(t: Template, name: string, depth: number, deployTime = false): boolean | Unresolved {
  if (!t.conditions.has(name)) return new Unresolved(`the condition ${clip(name)} is not in the template`);
  if (t.evaluating.has(name)) return new Unresolved(`the condition ${clip(name)} refers to itself`);
  const node = t.conditions.get(name);
  if (!node) return new Unresolved(`the condition ${clip(name)} is empty`);
  t.evaluating.add(name);
  if (deployTime) t.inCondition++;
  try {
    const v = toDyn(t, node, depth + 1);
    return typeof v === 'boolean' ? v : v instanceof Unresolved ? v : new Unresolved(`the condition ${clip(name)} is not a condition function`);
  } finally {
    if (deployTime) t.inCondition--;
    t.evaluating.delete(name);
  }
}

/** `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`, `Condition`: a boolean when the values they compare are literal. */
function conditionValue(t: Template, fn: string, arg: YamlNode, depth: number): boolean | Unresolved {
  const w = t.w;
  if (fn === 'Condition') {
    const name = w.text(arg);
    return name === undefined ? new Unresolved('Condition has no name') : condition(t, name, depth);
  }
  const items = w.items(arg);
  if (fn === 'Equals') {
    const [a, b] = items.map((n) => toDyn(t, n, depth + 1));
    const lit = (v: Dyn | undefined): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    if (!lit(a) || !lit(b)) {
      const why = [a, b].find((v) => v instanceof Unresolved) as Unresolved | undefined;
      return new Unresolved(why ? why.reason : 'Fn::Equals of values that are not literal');
    }
    return String(a) === String(b);
  }
  const values = items.map((n) => {
    const v = toDyn(t, n, depth + 1);
    return typeof v === 'boolean' ? v : v instanceof Unresolved ? v : new Unresolved(`Fn::${fn} of a value that is not a condition`);
  });
  if (fn === 'Not') return values.length === 1 ? (typeof values[0] === 'boolean' ? !values[0] : values[0]!) : new Unresolved('Fn::Not takes one condition');
  const want = fn === 'Or';
  if (values.some((v) => v === want)) return want;
  const open = values.find((v) => v instanceof Unresolved);
  return open ?? !want;
}

/** Structural equality of two evaluated values (for an `Fn::If` whose branches agree). */
function sameDyn(a: Dyn, b: Dyn): boolean {
  if (a instanceof Unresolved || b instanceof Unresolved || a instanceof PartialString || b instanceof PartialString) return false;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameDyn(x, b[i]!));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && sameDyn((a as DynObject)[k]!, (b as DynObject)[k]!));
}

function ref(t: Template, name: string, depth: number): Dyn {
  if (name === 'AWS::NoValue') return NO_VALUE;
  if (PSEUDO.has(name)) return new Unresolved(`${name} is known only at deploy time`, name);
  if (t.params.has(name)) {
    // Whether a resource exists is decided at deploy: a resource `Condition: IsProd` with
    // `Env` defaulting to `dev` is still created by the prod deployment, so it is judged.
    if (t.inCondition > 0) return new Unresolved(`the condition depends on the parameter ${clip(name)}, set at deploy time`, name);
    const def = t.params.get(name);
    if (!def) return new Unresolved(`the parameter ${clip(name)} has no Default (it is set at deploy time)`, name);
    const v = toDyn(t, def, depth + 1);
    return v instanceof Unresolved ? new Unresolved(`the parameter ${clip(name)} has no literal Default`, name) : v;
  }
  if (t.types.has(name)) return new Unresolved(`Ref ${clip(name)} is known only after deploy`, name);
  return new Unresolved(`Ref ${clip(name)} names nothing in the template`, name);
}

/** `Fn::Sub`: `${Name}`, `${Res.Attr}`, `${!Literal}`. */
function sub(t: Template, template: string, vars: Map<string, Dyn>, depth: number): Dyn {
  const parts: (string | Unresolved)[] = [];
  const re = /\$\{(!?)([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) parts.push(template.slice(last, m.index));
    last = m.index + m[0].length;
    const name = m[2]!.trim();
    if (m[1] === '!') {
      parts.push(`\${${m[2]}}`);
      continue;
    }
    const v = vars.has(name) ? vars.get(name)! : name.includes('.') && !PSEUDO.has(name) ? new Unresolved(`${clip(name)} is known only after deploy`, name) : ref(t, name, depth);
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') parts.push(String(v));
    else if (v instanceof Unresolved) parts.push(v.ref === undefined ? new Unresolved(v.reason, name) : v);
    else if (v instanceof PartialString) parts.push(...v.parts);
    else parts.push(new Unresolved(`\${${clip(name)}} is not a string`, name));
  }
  if (last < template.length) parts.push(template.slice(last));
  return partial(t, parts);
}

function partial(t: Template, parts: (string | Unresolved)[]): Dyn {
  // Anchored strings can be joined into ever longer ones: count what is built.
  let cost = 0;
  for (const p of parts) cost += typeof p === 'string' ? 1 + (p.length >> 6) : 1;
  if (!t.budget.take(cost)) return new Unresolved('evaluation budget exhausted');
  if (parts.every((p) => typeof p === 'string')) return parts.join('');
  const merged: (string | Unresolved)[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else if (p !== '') merged.push(p);
  }
  return merged.length === 1 && merged[0] instanceof Unresolved ? merged[0] : new PartialString(merged);
}

const clip = (s: string, n = 80): string => (s.length > n ? `${s.slice(0, n)}…` : s);
