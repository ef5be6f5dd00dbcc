/**
 * Policy AST → Rego v1 source. Pure and deterministic: the same AST always gives the same bytes,
 * and the output is already in `opa fmt` form and passes `opa check --strict` (golden tests hold
 * both). Every generated rule carries the policy location it came from, in a comment and in the
 * `policy` field of each violation and action, and `lineMap` maps Rego lines back to the policy.
 *
 * Only builtins that OPA's wasm target compiles natively are used (no `sprintf`, which the JS SDK
 * runs outside wasm at a JSON round trip per call), and time only comes from `input.nowMs` (wasm
 * has no clock).
 *
 * The Rego is written to cost about one pass over the input (see docs/benchmarks.md, Policy):
 * - keys are referred to by a small id (their index; `-1 - index` for keys declared in config
 *   facts), so the per-class selections are sets of numbers, never sets of whole key objects
 *   (a set hashes every member in full);
 * - globs are precompiled into `==`, `in`, `startswith`, `endswith` or `contains` where they
 *   can be, and only the rest go through `glob.match`;
 * - subject objects and messages are built only for the violations that are produced.
 */
import { ADMIN_OPERATIONS as KEY_ADMIN_OPERATIONS, USE_OPERATIONS as KEY_USE_OPERATIONS } from '../../model/keys.js';
import type { Bound, KeyRule, LeakRule, Loc, PolicyAst, PolicyException } from '../dsl/ast.js';
import { globShape } from '../dsl/syntax.js';

export interface CompilePolicyOptions {
  /** Put file/line/column into the output. Off: only JSON pointers (builder and YAML then compile alike). Default true. */
  locations?: boolean;
}

export interface CompiledPolicy {
  /** `keywarden.<name>` */
  packageName: string;
  /** The decision's wasm entrypoint, `keywarden/<name>/decision` (the bundle also has `partial.entrypoint`). */
  entrypoint: string;
  /** The module's path inside the bundle, e.g. `keywarden/acme_payments.rego`. */
  modulePath: string;
  rego: string;
  /** 1-based Rego line → the policy place that line was generated from. */
  lineMap: ReadonlyMap<number, Loc>;
  /** Every generated rule: id, policy place, and the Rego line it starts on. */
  rules: ReadonlyArray<{ id: string; loc: Loc; regoLine: number; description: string }>;
  /** What the incremental evaluator (src/policy/engine/incremental.ts) needs to cache decisions per input item. */
  partial: PartialDecisionInfo;
}

/**
 * Every generated rule judges one input item at a time (a key, a finding, a config fact, a changed
 * file), so a decision is the union of per-item parts. The `partial` entrypoint returns each
 * violation and action paired with its item, `[["keys", i] | ["findings", i] | ["facts", j] |
 * ["files", n], x]`, and what else an item's part depends on is listed here.
 */
export interface PartialDecisionInfo {
  /** `keywarden/<name>/partial` */
  entrypoint: string;
  /**
   * `keywarden/<name>/context`: what a finding's part depends on besides the finding and `nowMs`
   * (whether each leak rule's branch and visibility conditions hold), a small JSON value. Keys,
   * facts and files depend on nothing but themselves and `nowMs`.
   */
  contextEntrypoint: string;
  /** The only input paths the `context` entrypoint reads. */
  contextPaths: readonly string[];
  /** Times (epoch ms) at which an exception stops applying: every item's part may change there. */
  expiresMs: readonly number[];
  /**
   * A key's part changes when its age (`nowMs - rotatedAtMs`) crosses one of these (ms), and,
   * while it is older than the smallest, at every whole day of age (messages say the age in days).
   */
  keyAgesMs: readonly number[];
}

/** Input paths the generated rules read besides the items and `nowMs` (only in `_leak<i>_applies`); a test holds the compiler to it. */
export const PARTIAL_CONTEXT = ['event.branch', 'repo.visibility'] as const;


/** Operations that administer a key (AWS KMS names, plus generic words other backends use). */
export const ADMIN_OPERATIONS = [
  // Not kms:Create* or the grant actions: CreateGrant passes on use, never administration.
  'kms:CreateAlias',
  'kms:CreateKey',
  'kms:Put*',
  'kms:Update*',
  'kms:Enable*',
  'kms:Disable*',
  'kms:Delete*',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ImportKeyMaterial',
  'kms:RotateKeyOnDemand',
  'admin',
  'manage',
  'destroy',
  // The normalised operations every backend reports (src/backends/port.ts).
  ...KEY_ADMIN_OPERATIONS,
] as const;

/** Grants of every operation: they count as both administering and using. */
const WILDCARD_OPERATIONS = ['*', 'kms:*'] as const;

/** Operations that use a key. */
export const USE_OPERATIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Sign', 'kms:Verify', 'kms:GenerateMac', 'kms:VerifyMac', 'kms:DeriveSharedSecret', 'use', 'wrap', 'unwrap', ...KEY_USE_OPERATIONS] as const;

const q = (s: string): string => JSON.stringify(s);
const list = (xs: readonly string[]): string => `[${xs.map(q).join(', ')}]`;
const setOf = (xs: readonly string[]): string => `{${xs.map(q).join(', ')}}`;
const num = (n: number): string => (Number.isInteger(n) ? String(n) : String(Math.round(n * 1e6) / 1e6));
const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

/** A glob without metacharacters matches only itself. */
const isLiteralGlob = (p: string): boolean => globShape(p).kind === 'literal';

/** Characters in a string as Rego's `count` sees them (code points). */
const codePoints = (s: string): number => [...s].length;

/**
 * Rego conditions (a conjunction) that hold exactly when `glob.match(pattern, null, x)` does.
 * With no delimiters `*` and `**` match any run of characters, so the common shapes need no glob
 * engine (see `globShape`): `lit`, `lit*`, `*lit`, `*lit*`, `a*b` and `*`. Anything else keeps
 * `glob.match`.
 *
 * @example
 * globConditions('alias/pay-*', 'a') // ['startswith(a, "alias/pay-")']
 */
export function globConditions(pattern: string, x: string): string[] {
  const g = globShape(pattern);
  switch (g.kind) {
    case 'literal':
      return [`${x} == ${q(g.text)}`];
    case 'any':
      return [`is_string(${x})`];
    case 'prefix':
      return [`startswith(${x}, ${q(g.head)})`];
    case 'suffix':
      return [`endswith(${x}, ${q(g.tail)})`];
    case 'infix':
      return [`contains(${x}, ${q(g.part)})`];
    case 'affix':
      // Head and tail must not overlap: `ab*ba` does not match "aba".
      return [`startswith(${x}, ${q(g.head)})`, `endswith(${x}, ${q(g.tail)})`, `count(${x}) >= ${codePoints(g.head) + codePoints(g.tail)}`];
    case 'engine':
      return [`glob.match(${q(pattern)}, null, ${x})`];
  }
}

/** Literal patterns tested one clause each; more go into a constant set. */
const MAX_LITERAL_CLAUSES = 8;

/** `head if cond`, or `head if { ... }` for several conditions. */
function functionClause(head: string, conds: readonly string[]): string[] {
  return conds.length === 1 ? [`${head} if ${conds[0]}`] : [`${head} if {`, ...conds.map((c) => `\t${c}`), '}'];
}

type Part = string | { rego: string };
const rego = (s: string): Part => ({ rego: s });
const int = (s: string): Part => ({ rego: `format_int(${s}, 10)` });

/** A message: literal text and Rego string expressions, joined with `concat` (native in wasm, unlike `sprintf`). */
function message(...parts: Part[]): string {
  const items: string[] = [];
  let text = '';
  for (const p of parts) {
    if (typeof p === 'string') text += p;
    else {
      if (text) items.push(q(text));
      text = '';
      items.push(p.rego);
    }
  }
  if (text) items.push(q(text));
  return items.length === 1 && items[0]?.startsWith('"') ? (items[0] ?? '""') : `concat("", [${items.join(', ')}])`;
}

/** `payments-signing` → `payments_signing`; the Rego package suffix. */
function packageSuffix(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * Compile a policy AST to Rego.
 *
 * @example
 * const { rego, entrypoint } = compilePolicy(parsePolicy(text, { file }));
 */
export function compilePolicy(ast: PolicyAst, options: CompilePolicyOptions = {}): CompiledPolicy {
  const withLoc = options.locations ?? true;
  const out: string[] = [];
  const lineMap = new Map<number, Loc>();
  const rules: Array<{ id: string; loc: Loc; regoLine: number; description: string }> = [];
  const suffix = packageSuffix(ast.name);
  const where = (loc: Loc): string => oneLine(withLoc ? `${loc.file}:${loc.line}:${loc.column}` : loc.path || '/');
  const policyObj = (loc: Loc): string =>
    withLoc ? `{"file": ${q(loc.file)}, "line": ${loc.line}, "column": ${loc.column}, "path": ${q(loc.path)}}` : `{"path": ${q(loc.path)}}`;

  /** Emit a block of lines generated from `loc`; the first line is recorded as a rule start when `id` is given. */
  const block = (loc: Loc | undefined, lines: string[], rule?: { id: string; description: string }): void => {
    if (out.length > 0) out.push('');
    const start = out.length + 1;
    for (const l of lines) {
      out.push(l);
      if (loc) lineMap.set(out.length, loc);
    }
    if (rule && loc) rules.push({ ...rule, loc, regoLine: start });
  };
  const violation = (id: string, loc: Loc, severity: string, msg: string, subject: string): string[] => [
    '\tv := {',
    `\t\t"rule": ${q(id)},`,
    `\t\t"message": ${msg},`,
    `\t\t"severity": ${q(severity)},`,
    `\t\t"policy": ${policyObj(loc)},`,
    `\t\t"subject": ${subject},`,
    '\t}',
  ];

  /**
   * One Rego expression that holds when `x` matches any of `patterns`. One pattern is tested
   * inline; several become a helper function `name` with one clause per pattern (cheap clauses:
   * wasm builds a set or array literal afresh at every test, a function clause costs next to
   * nothing). More than `MAX_LITERAL_CLAUSES` literal patterns go into one constant set, looked
   * up as `set[x]` (hashed; `x in set` compares x with every member). The helper's lines are appended to `helpers`, so they sit in the block
   * of the rule that uses them.
   */
  const anyOf = (patterns: readonly string[], x: string, name: string, helpers: string[]): string => {
    const ps = unique(patterns);
    if (ps.length === 1) {
      const only = globConditions(ps[0] ?? '', x);
      if (only.length === 1) return only[0] ?? '';
    }
    const literal = ps.filter(isLiteralGlob);
    const many = literal.length > MAX_LITERAL_CLAUSES;
    const clauses = ps.flatMap((p) => (many && isLiteralGlob(p) ? [] : [globConditions(p, 'x')]));
    if (many) {
      helpers.push('', `${name}_literals := ${setOf(literal)}`);
      clauses.unshift([`${name}_literals[x]`]);
    }
    for (const c of clauses) helpers.push('', ...functionClause(`${name}(x)`, c));
    return `${name}(${x})`;
  };

  /** Like `anyOf`, for values compared exactly (no globs). */
  const anyLiteral = (values: readonly string[], x: string, name: string, helpers: string[]): string => {
    const vs = unique(values);
    if (vs.length === 1) return `${x} == ${q(vs[0] ?? '')}`;
    if (vs.length > MAX_LITERAL_CLAUSES) {
      helpers.push('', `${name}_literals := ${setOf(vs)}`, '', `${name}(x) if ${name}_literals[x]`);
      return `${name}(${x})`;
    }
    for (const v of vs) helpers.push('', `${name}(x) if x == ${q(v)}`);
    return `${name}(${x})`;
  };

  const hasKeys = ast.keys.length > 0;
  /** Rules that say whether a leak rule's conditions on the event and the repo hold (the `context` entrypoint). */
  const contextRules: string[] = [];
  const needsGrants = ast.keys.some((k) => k.access?.admins || k.access?.users || k.access?.separateDuties?.value === true);

  if (hasKeys) {
    // Keys from the backend inventory and keys declared in repo config are judged alike.
    block(undefined, [
      '# Keys judged, by a small id: input.keys[i] is i, a key declared in config (input.facts[j]) is -1 - j.',
      '_key[i] := k if some i, k in input.keys',
      '',
      '_key[id] := f.key if {',
      '\tsome j, f in input.facts',
      '\tf.kind == "key"',
      '\tis_string(f.key.id)',
      '\tid := -1 - j',
      '}',
      '',
      '# What a violation about key `id` points at; built only for the violations produced.',
      '_subject(id) := {"kind": "key", "id": k.id, "backend": k.backend, "aliases": k.aliases} if {',
      '\tid >= 0',
      '\tk := input.keys[id]',
      '}',
      '',
      '_subject(id) := {"kind": "key-config", "id": f.key.id, "aliases": f.key.aliases, "file": f.file, "line": f.line} if {',
      '\tid < 0',
      '\tf := input.facts[-1 - id]',
      '}',
    ]);
  }

  ast.keys.forEach((k, i) => compileKey(k, i));
  compileLeaks();
  compileStorage();
  ast.exceptions.forEach((e, i) => compileException(e, i));

  if (needsGrants) {
    const classify = (name: string, ops: readonly string[]): string[] => {
      const literal = unique([...WILDCARD_OPERATIONS, ...ops.filter(isLiteralGlob)]);
      return [
        `${name}_literals := ${setOf(literal)}`,
        '',
        `${name}(op) if ${name}_literals[op]`,
        ...ops.filter((g) => !isLiteralGlob(g)).flatMap((g) => ['', ...functionClause(`${name}(op)`, globConditions(g, 'op'))]),
      ];
    };
    block(undefined, [
      '# Grants: an operation administers or uses a key by the lists below; "*" and "kms:*" do both.',
      ...classify('_admin_op', ADMIN_OPERATIONS),
      '',
      ...classify('_use_op', USE_OPERATIONS),
      '',
      '_is_admin_grant(g) if {',
      '\tsome op in g.operations',
      '\t_admin_op(op)',
      '}',
      '',
      '_is_use_grant(g) if {',
      '\tsome op in g.operations',
      '\t_use_op(op)',
      '}',
    ]);
  }

  // The header depends on which rules exist (an empty partial set would be an unsafe reference),
  // so it is generated last and the body's line numbers are shifted below it.
  const body = out.splice(0, out.length);
  const bodyMap = new Map(lineMap);
  lineMap.clear();
  const hasViolations = body.some((l) => l.startsWith('_violations contains'));
  const hasActions = body.some((l) => l.startsWith('_actions contains'));
  const hasExceptions = ast.exceptions.length > 0;
  const filter = (x: string): string[] => (hasExceptions ? [`\tnot _excepted(${x})`] : []);
  const partialOf = (set: string, has: boolean): string => (!has ? '[]' : hasExceptions ? `[p | some p in ${set}; not _excepted(p[1])]` : `[p | some p in ${set}]`);
  block(undefined, [
    `# Generated by keywarden from ${withLoc ? oneLine(ast.file) : 'a policy'}. Do not edit: change the policy and compile again.`,
    `package keywarden.${suffix}`,
  ]);
  block(undefined, [
    '# The decision.',
    'decision := {"violations": violations, "actions": actions}',
    '',
    '# The decision in parts: each violation and action of the generated rules with the input item it is',
    '# about (["keys", i], a key declared in config as ["keys", -1 - j]; ["findings", i]; ["facts", j];',
    '# ["files", n]). Custom modules are not in it. For incremental evaluation (src/policy/engine/incremental.ts).',
    `partial := {"violations": ${partialOf('_violations', hasViolations)}, "actions": ${partialOf('_actions', hasActions)}}`,
    '',
    '# What a finding\'s part depends on besides the finding and the time: which leak rules the event and the repo let apply.',
    `context := [${contextRules.join(', ')}]`,
    ...(hasViolations ? ['', 'violations contains v if {', '\tsome [_, v] in _violations', ...filter('v'), '}'] : []),
    '',
    '# Custom modules (package keywarden.custom.<name>) add violations and actions to the same decision.',
    'violations contains v if {',
    '\tsome v in data.keywarden.custom[_].violations',
    ...filter('v'),
    '}',
    ...(hasActions ? ['', 'actions contains a if {', '\tsome [_, a] in _actions', ...filter('a'), '}'] : []),
    '',
    'actions contains a if {',
    '\tsome a in data.keywarden.custom[_].actions',
    ...filter('a'),
    '}',
  ]);
  const shift = out.length + 1;
  if (body.length > 0) out.push('', ...body);
  for (const [line, loc] of bodyMap) lineMap.set(line + shift, loc);
  for (const r of rules) r.regoLine += shift;
  const text = `${out.join('\n')}\n`;
  const partial: PartialDecisionInfo = {
    entrypoint: `keywarden/${suffix}/partial`,
    contextEntrypoint: `keywarden/${suffix}/context`,
    contextPaths: PARTIAL_CONTEXT,
    expiresMs: [...new Set(ast.exceptions.map((e) => e.expiresMs))].sort((a, b) => a - b),
    keyAgesMs: [...new Set(ast.keys.flatMap((k) => (k.rotation?.maxAge ? [maxAgeMs(k.rotation.maxAge.days)] : [])))].sort((a, b) => a - b),
  };
  return { packageName: `keywarden.${suffix}`, entrypoint: `keywarden/${suffix}/decision`, modulePath: `keywarden/${suffix}.rego`, rego: text, lineMap, rules, partial };

  /** A helper function `name(x)` that holds when `x` satisfies every comparison of the bound. */
  function boundHelper(name: string, b: Bound): string[] {
    return ['', ...functionClause(`${name}(x)`, b.comparisons.map((c) => `x ${c.op} ${num(c.days)}`))];
  }

  function compileKey(k: KeyRule, i: number): void {
    const set = `_key${i}`;
    const sel: string[] = [];
    if (k.match.backend) sel.push(`\tk.backend == ${q(k.match.backend)}`);
    if (k.match.id) sel.push(...globConditions(k.match.id, 'k.id').map((c) => `\t${c}`));
    if (k.match.alias) sel.push('\tsome alias in k.aliases', ...globConditions(k.match.alias, 'alias').map((c) => `\t${c}`));
    if (k.match.label) sel.push('\tsome label in k.labels', ...globConditions(k.match.label, 'label').map((c) => `\t${c}`));
    for (const [tag, g] of Object.entries(k.match.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) sel.push(...globConditions(g, `k.tags${refPart(tag)}`).map((c) => `\t${c}`));
    const selHelpers: string[] = [];
    if (k.match.family?.length) sel.push(`\t${anyLiteral(k.match.family, 'k.specClass', `_key${i}_family`, selHelpers)}`);
    if (k.match.spec) sel.push('\tis_string(k.spec)', ...globConditions(k.match.spec, 'k.spec').map((c) => `\t${c}`));
    if (k.match.resource) sel.push('\tis_string(k.resourceType)', ...globConditions(k.match.resource, 'k.resourceType').map((c) => `\t${c}`));
    if (k.match.path) sel.push('\tis_string(k.file)', ...globConditions(k.match.path, 'k.file').map((c) => `\t${c}`));
    block(
      k.match.loc,
      [
        `# keys[${i}] ${k.name}: which keys (${where(k.match.loc)})`,
        `${set} contains id if {`,
        ...(sel.length > 0 ? ['\tsome id, k in _key', ...sel] : ['\tsome id, _ in _key']),
        '}',
        ...selHelpers,
      ],
      { id: `keys/${k.name}/match`, description: `keys[${i}] ${k.name}: selects keys` },
    );
    const rid = (part: string): string => `keys/${k.name}/${part}`;
    const name = k.name;
    /** A violation rule over the keys of this class; `helpers` are helper functions it uses. */
    const rule = (id: string, loc: Loc, description: string, body: string[], msg: string, helpers: string[] = []): void => {
      block(
        loc,
        [`# ${description} (${where(loc)})`, '_violations contains [["keys", id], v] if {', `\tsome id in ${set}`, '\tk := _key[id]', ...body, ...violation(id, loc, k.severity, msg, '_subject(id)'), '}', ...helpers],
        { id, description },
      );
    };
    const helper = (part: string): string => `_key${i}_${part}`;
    const r = k.rotation;
    if (r?.maxAge) {
      // Compared as times, not ages: one subtraction per evaluation instead of one per key.
      const since = helper('rotated_since');
      rule(
        rid('rotation/max-age'),
        r.maxAge.loc,
        `keys[${i}] ${name}: rotate at least every ${r.maxAge.text}`,
        [`\tk.rotatedAtMs < ${since}`],
        message('Key ', rego('k.id'), ' was last rotated ', int('(input.nowMs - k.rotatedAtMs) / 86400000'), ` days ago; policy ${name} allows at most ${r.maxAge.text}.`),
        ['', `# Keys last rotated before this time (epoch ms) are older than ${r.maxAge.text}.`, `${since} := input.nowMs - ${maxAgeMs(r.maxAge.days)}`],
      );
    }
    if (r?.automatic?.value === 'required') {
      rule(rid('rotation/automatic'), r.automatic.loc, `keys[${i}] ${name}: automatic rotation required`, ['\tnot k.rotation.enabled', '\tnot "rotation" in k.unknown'], message('Key ', rego('k.id'), ` does not rotate automatically; policy ${name} requires it.`));
    }
    if (r?.automatic?.value === 'forbidden') {
      rule(rid('rotation/automatic'), r.automatic.loc, `keys[${i}] ${name}: automatic rotation forbidden`, ['\tk.rotation.enabled == true'], message('Key ', rego('k.id'), ` rotates automatically; policy ${name} forbids it.`));
    }
    if (r?.period) {
      rule(
        rid('rotation/period'),
        r.period.loc,
        `keys[${i}] ${name}: rotation period ${r.period.text}`,
        ['\tperiod := k.rotation.periodDays', '\tis_number(period)', `\tnot ${helper('period_ok')}(period)`],
        message('Key ', rego('k.id'), ' rotates every ', int('period'), ` days; policy ${name} requires ${r.period.text}.`),
        boundHelper(helper('period_ok'), r.period),
      );
    }
    const sp = k.spec;
    if (sp?.allow) {
      const helpers: string[] = [];
      const test = anyOf(sp.allow.value, 'spec', helper('spec_allowed'), helpers);
      rule(
        rid('spec/allow'),
        sp.allow.loc,
        `keys[${i}] ${name}: allowed key specs`,
        ['\tspec := k.spec', '\tis_string(spec)', `\tnot ${test}`],
        message('Key ', rego('k.id'), ' has spec ', rego('spec'), `, which policy ${name} does not allow.`),
        helpers,
      );
    }
    if (sp?.deny) {
      const helpers: string[] = [];
      const test = anyOf(sp.deny.value, 'spec', helper('spec_denied'), helpers);
      rule(rid('spec/deny'), sp.deny.loc, `keys[${i}] ${name}: denied key specs`, ['\tspec := k.spec', `\t${test}`], message('Key ', rego('k.id'), ' has spec ', rego('spec'), `, which policy ${name} denies.`), helpers);
    }
    if (sp?.minSize) {
      const sizes = Object.entries(sp.minSize.value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      rule(
        rid('spec/min-size'),
        sp.minSize.loc,
        `keys[${i}] ${name}: minimum key sizes`,
        [`\tminimum := ${helper('min_size')}(k.specFamily)`, '\tk.specBits < minimum'],
        message('Key ', rego('k.id'), ' is ', rego('k.specFamily'), ' with ', int('k.specBits'), ` bits; policy ${name} requires at least `, int('minimum'), '.'),
        sizes.flatMap(([f, n]) => ['', `${helper('min_size')}(${q(f)}) := ${n}`]),
      );
    }
    const a = k.access;
    const exemptHelpers: string[] = [];
    const exemptTest = a?.exempt?.value.length ? anyOf(a.exempt.value, 'g.principal', helper('exempt'), exemptHelpers) : undefined;
    /** Skips grant `g` (or `g1`) of an exempt principal. */
    const exemptGuard = (g = 'g'): string[] => (exemptTest && a?.exempt ? [`\tnot ${g === 'g' ? exemptTest : anyOf(a.exempt.value, `${g}.principal`, helper('exempt'), [])}`] : []);
    if (a?.exempt && exemptHelpers.length > 0) {
      block(a.exempt.loc, [`# keys[${i}] ${name}: principals exempt from the access rules (${where(a.exempt.loc)})`, ...exemptHelpers.filter((l, j) => j > 0 || l !== '')]);
    }
    if (a?.admins) {
      const helpers: string[] = [];
      const test = anyOf(a.admins.value, 'g.principal', helper('admin'), helpers);
      rule(
        rid('access/admins'),
        a.admins.loc,
        `keys[${i}] ${name}: who may administer`,
        // The principal test first: most grants are by listed principals, and it is the cheaper test.
        ['\tsome g in k.access', `\tnot ${test}`, '\t_is_admin_grant(g)'],
        message(rego('g.principal'), ' may administer key ', rego('k.id'), ` but is not among the admins of policy ${name}.`),
        helpers,
      );
    }
    if (a?.users) {
      const helpers: string[] = [];
      const test = anyOf(a.users.value, 'g.principal', helper('user'), helpers);
      rule(
        rid('access/users'),
        a.users.loc,
        `keys[${i}] ${name}: who may use`,
        ['\tsome g in k.access', `\tnot ${test}`, '\t_is_use_grant(g)', '\tnot _is_admin_grant(g)'],
        message(rego('g.principal'), ' may use key ', rego('k.id'), ` but is not among the users of policy ${name}.`),
        helpers,
      );
    }
    if (a?.forbid) {
      if (a.forbid.value.includes('wildcard-principal')) {
        rule(
          rid('access/forbid/wildcard-principal'),
          a.forbid.loc,
          `keys[${i}] ${name}: no wildcard principal`,
          ['\tsome g in k.access', '\tcontains(g.principal, "*")', ...exemptGuard()],
          message('Key ', rego('k.id'), ' grants access to the wildcard principal ', rego('g.principal'), '.'),
        );
      }
      const ops = unique(a.forbid.value.filter((f) => f !== 'wildcard-principal'));
      if (ops.length > 0) {
        const helpers: string[] = [];
        const test = anyLiteral(ops, 'op', helper('forbidden_op'), helpers);
        rule(
          rid('access/forbid/operation'),
          a.forbid.loc,
          `keys[${i}] ${name}: forbidden grants`,
          ['\tsome g in k.access', ...exemptGuard(), '\tsome op in g.operations', `\t${test}`],
          message('Key ', rego('k.id'), ' grants ', rego('op'), ' to ', rego('g.principal'), `, which policy ${name} forbids.`),
          helpers,
        );
      }
    }
    if (a?.separateDuties?.value === true) {
      rule(
        rid('access/separate-duties'),
        a.separateDuties.loc,
        `keys[${i}] ${name}: separation of duties`,
        ['\tsome g1 in k.access', '\t_is_admin_grant(g1)', ...exemptGuard('g1'), '\tsome g2 in k.access', '\tg1.principal == g2.principal', '\t_is_use_grant(g2)'],
        message(rego('g1.principal'), ' both administers and uses key ', rego('k.id'), `; policy ${name} requires separate duties.`),
      );
    }
    const pw = k.destroy?.pendingWindow;
    if (pw) {
      rule(
        rid('destroy/pending-window'),
        pw.loc,
        `keys[${i}] ${name}: pending window before destruction ${pw.text}`,
        ['\twindow := k.pendingWindowDays', '\tis_number(window)', `\tnot ${helper('window_ok')}(window)`],
        message('Key ', rego('k.id'), ' has a ', int('window'), `-day pending window before destruction; policy ${name} requires ${pw.text}.`),
        boundHelper(helper('window_ok'), pw),
      );
    }
    if (k.do.length > 0) {
      block(k.loc, [
        `# keys[${i}] ${name}: actions on violation (${where(k.loc)})`,
        '_actions contains [r, a] if {',
        '\tsome [r, v] in _violations',
        `\tstartswith(v.rule, ${q(`keys/${name}/`)})`,
        `\tsome t in ${list(k.do)}`,
        '\ta := {"type": t, "rule": v.rule, "severity": v.severity, "policy": v.policy, "subject": v.subject}',
        '}',
      ]);
    }
  }

  function compileLeaks(): void {
    if (ast.secrets.onLeak.length === 0) return;
    const ignore = ast.secrets.ignorePaths;
    const helpers: string[] = [];
    const ignored = ignore.length > 0 ? anyOf(ignore, 'f.file', '_ignored_path', helpers) : '';
    block(ast.secrets.loc, [
      `# Findings the policy judges, by index${ignore.length > 0 ? ' (secrets.ignore-paths removed)' : ''}.`,
      '_findings contains i if {',
      ...(ignore.length > 0 ? ['\tsome i, f in input.findings', `\tnot ${ignored}`] : ['\tsome i, _ in input.findings']),
      '}',
      ...helpers,
    ]);
    block(undefined, [
      '# What a violation about a finding points at.',
      '_finding_subject(f) := {"kind": "finding", "file": f.file, "line": f.startLine, "column": f.startColumn, "fingerprint": f.fingerprint, "type": f.type}',
    ]);
    ast.secrets.onLeak.forEach((r: LeakRule, i: number) => {
      const set = `_leak${i}`;
      const helpers: string[] = [];
      // Conditions on the event and the repo come first: they are the same for every finding.
      const once: string[] = [];
      const each: string[] = [];
      if (r.when.branch) once.push(`\t${anyOf(r.when.branch, 'input.event.branch', `${set}_branch`, helpers)}`);
      if (r.when.visibility) once.push(`\tinput.repo.visibility in ${list(r.when.visibility)}`);
      if (r.when.type) each.push(`\t${anyOf(r.when.type, 'f.type', `${set}_type`, helpers)}`);
      if (r.when.path) each.push(`\t${anyOf(r.when.path, 'f.file', `${set}_path`, helpers)}`);
      const id = `secrets/on-leak/${i}`;
      const desc = `secrets.on-leak[${i}]: ${describeWhen(r)} → ${r.do.join(', ')}`;
      const msg = r.message
        ? message(`${r.message}: `, rego('f.title'), ' at ', rego('f.file'), ':', int('f.startLine'), '.')
        : message('Leaked secret (', rego('f.title'), ') at ', rego('f.file'), ':', int('f.startLine'), '.');
      if (once.length > 0) contextRules.push(`${set}_applies`);
      block(
        r.loc,
        [
          `# ${desc} (${where(r.loc)})`,
          ...(once.length > 0
            ? [`# Whether the event and the repo are as the rule requires (the same for every finding).`, `default ${set}_applies := false`, '', `${set}_applies if {`, ...once, '}', '']
            : []),
          `${set} contains i if {`,
          ...(once.length > 0 ? [`\t${set}_applies`] : []),
          '\tsome i in _findings',
          ...(each.length > 0 ? ['\tf := input.findings[i]', ...each] : []),
          '}',
          '',
          '_violations contains [["findings", i], v] if {',
          `\tsome i in ${set}`,
          '\tf := input.findings[i]',
          ...violation(id, r.loc, r.severity, msg, '_finding_subject(f)'),
          '}',
          '',
          '_actions contains [["findings", i], a] if {',
          `\tsome i in ${set}`,
          '\tsubject := _finding_subject(input.findings[i])',
          `\tsome t in ${list(r.do)}`,
          '\ta := {',
          '\t\t"type": t,',
          `\t\t"rule": ${q(id)},`,
          `\t\t"severity": ${q(r.severity)},`,
          `\t\t"policy": ${policyObj(r.loc)},`,
          '\t\t"subject": subject,',
          '\t}',
          '}',
          ...helpers,
        ],
        { id, description: desc },
      );
    });
  }

  function compileStorage(): void {
    const s = ast.storage;
    if (!s) return;
    s.forbidFiles.forEach((g, i) => {
      const id = 'storage/forbid-files';
      block(
        g.loc,
        [
          `# storage.forbid-files[${i}]: never commit ${oneLine(g.value)} (${where(g.loc)})`,
          '_violations contains [["files", n], v] if {',
          '\tsome n, file in input.repo.files',
          ...globConditions(g.value, 'file').map((c) => `\t${c}`),
          ...violation(id, g.loc, s.severity, message(rego('file'), ' must never be committed (it matches ', rego(q(g.value)), ').'), '{"kind": "file", "file": file}'),
          '}',
        ],
        { id: `${id}/${i}`, description: `storage.forbid-files[${i}]: ${oneLine(g.value)}` },
      );
    });
    const rr = s.requireReference;
    if (rr) {
      const id = 'storage/require-reference';
      const helpers: string[] = [];
      block(
        rr.loc,
        [
          `# storage.require-reference: secrets come from ${rr.value.join(', ')} (${where(rr.loc)})`,
          '_violations contains [["facts", j], v] if {',
          '\tsome j, f in input.facts',
          '\tf.kind == "secret-ref"',
          `\tnot ${anyLiteral(rr.value, 'f.source', '_referenced', helpers)}`,
          ...violation(id, rr.loc, s.severity, message('Secret ', rego('f.name'), ' is taken from ', rego('f.source'), `; the policy requires a reference to ${rr.value.join(', ')}.`), '{"kind": "config", "file": f.file, "line": f.line}'),
          '}',
          ...helpers,
        ],
        { id, description: `storage.require-reference: ${rr.value.join(', ')}` },
      );
    }
  }

  function compileException(e: PolicyException, i: number): void {
    const conds = [`\tinput.nowMs < ${e.expiresMs}`];
    const helpers: string[] = [];
    if (e.fingerprint) conds.push(`\tx.subject.fingerprint == ${q(e.fingerprint)}`);
    if (e.key) {
      // The key is named by its id or any of its aliases.
      const name = `_exception${i}_key`;
      conds.push(`\t${name}(x.subject)`);
      const byId = globConditions(e.key, 's.id');
      const byAlias = globConditions(e.key, 'n');
      helpers.push('', ...functionClause(`${name}(s)`, byId));
      helpers.push('', `${name}(s) if {`, '\tsome n in s.aliases', ...byAlias.map((c) => `\t${c}`), '}');
    }
    if (e.rule) conds.push(...globConditions(e.rule, 'x.rule').map((c) => `\t${c}`));
    if (e.path) conds.push(...globConditions(e.path, 'x.subject.file').map((c) => `\t${c}`));
    block(
      e.loc,
      [`# exceptions[${i}]: ${oneLine(e.reason)} (owner ${oneLine(e.owner)}, until ${e.expires}) (${where(e.loc)})`, '_excepted(x) if {', ...conds, '}', ...helpers],
      { id: `exceptions/${i}`, description: `exceptions[${i}]: ${oneLine(e.reason)}` },
    );
  }
}

const maxAgeMs = (days: number): number => Math.round(days * 86_400_000);

const REGO_KEYWORDS = new Set(['as', 'contains', 'data', 'default', 'else', 'every', 'false', 'if', 'import', 'in', 'input', 'not', 'null', 'package', 'some', 'true', 'with']);

/** `.env` where `opa fmt` would write it so, `["cost-center"]` otherwise. */
function refPart(k: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && !REGO_KEYWORDS.has(k) ? `.${k}` : `[${q(k)}]`;
}

const oneLine = (s: string): string => s.replace(/[\r\n\t]+/g, ' ').slice(0, 120);

function describeWhen(r: LeakRule): string {
  const parts: string[] = [];
  if (r.when.type) parts.push(`type ${r.when.type.join('|')}`);
  if (r.when.branch) parts.push(`branch ${r.when.branch.join('|')}`);
  if (r.when.path) parts.push(`path ${r.when.path.join('|')}`);
  if (r.when.visibility) parts.push(`visibility ${r.when.visibility.join('|')}`);
  return oneLine(parts.length > 0 ? parts.join(', ') : 'any leak');
}
