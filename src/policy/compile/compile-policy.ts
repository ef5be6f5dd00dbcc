/**
 * Policy AST → Rego v1 source. Pure and deterministic: the same AST always gives the same bytes,
 * and the output is already in `opa fmt` form and passes `opa check --strict` (golden tests hold
 * both). Every generated rule carries the policy location it came from, in a comment and in the
 * `policy` field of each violation and action, and `lineMap` maps Rego lines back to the policy.
 *
 * Only builtins that OPA's wasm target and the JS SDK both provide are used, and time only comes
 * from `input.nowMs` (wasm has no clock).
 */
import type { Bound, KeyRule, LeakRule, Loc, PolicyAst, PolicyException } from '../dsl/ast.js';

export interface CompilePolicyOptions {
  /** Put file/line/column into the output. Off: only JSON pointers (builder and YAML then compile alike). Default true. */
  locations?: boolean;
}

export interface CompiledPolicy {
  /** `keywarden.<name>` */
  packageName: string;
  /** The one wasm entrypoint, `keywarden/<name>/decision`. */
  entrypoint: string;
  /** The module's path inside the bundle, e.g. `keywarden/acme_payments.rego`. */
  modulePath: string;
  rego: string;
  /** 1-based Rego line → the policy place that line was generated from. */
  lineMap: ReadonlyMap<number, Loc>;
  /** Every generated rule: id, policy place, and the Rego line it starts on. */
  rules: ReadonlyArray<{ id: string; loc: Loc; regoLine: number; description: string }>;
}

/** Operations that administer a key (AWS KMS names, plus generic words other backends use). */
export const ADMIN_OPERATIONS = [
  'kms:Create*',
  'kms:Put*',
  'kms:Update*',
  'kms:Enable*',
  'kms:Disable*',
  'kms:Delete*',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:RevokeGrant',
  'kms:RetireGrant',
  'kms:ImportKeyMaterial',
  'kms:RotateKeyOnDemand',
  'admin',
  'manage',
  'destroy',
  'rotate',
] as const;

/** Grants of every operation: they count as both administering and using. */
export const WILDCARD_OPERATIONS = ['*', 'kms:*'] as const;

/** Operations that use a key. */
export const USE_OPERATIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Sign', 'kms:Verify', 'kms:GenerateMac', 'kms:VerifyMac', 'kms:DeriveSharedSecret', 'use', 'encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap'] as const;

const q = (s: string): string => JSON.stringify(s);
const list = (xs: readonly string[]): string => `[${xs.map(q).join(', ')}]`;
const num = (n: number): string => (Number.isInteger(n) ? String(n) : String(Math.round(n * 1e6) / 1e6));

/** `payments-signing` → `payments_signing`; the Rego package suffix. */
export function packageSuffix(name: string): string {
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
  const violation = (id: string, loc: Loc, severity: string, message: string, subject: string): string[] => [
    '\tv := {',
    `\t\t"rule": ${q(id)},`,
    `\t\t"message": ${message},`,
    `\t\t"severity": ${q(severity)},`,
    `\t\t"policy": ${policyObj(loc)},`,
    `\t\t"subject": ${subject},`,
    '\t}',
  ];

  // Keys from the backend inventory and keys declared in repo config are judged alike.
  block(undefined, [
    '_subjects contains {"key": k, "subject": {"kind": "key", "id": k.id, "backend": k.backend, "aliases": k.aliases}} if {',
    '\tsome k in input.keys',
    '}',
    '',
    '_subjects contains {"key": f.key, "subject": {"kind": "key-config", "id": f.key.id, "aliases": f.key.aliases, "file": f.file, "line": f.line}} if {',
    '\tsome f in input.facts',
    '\tf.kind == "key"',
    '}',
  ]);

  ast.keys.forEach((k, i) => compileKey(k, i));
  compileLeaks();
  compileStorage();
  ast.exceptions.forEach((e, i) => compileException(e, i));

  block(undefined, [
    '# Helpers.',
    `_admin_operations := ${list(ADMIN_OPERATIONS)}`,
    '',
    `_use_operations := ${list(USE_OPERATIONS)}`,
    '',
    `_wildcard_operations := ${list(WILDCARD_OPERATIONS)}`,
    '',
    '_any_match(patterns, s) if {',
    '\tsome p in patterns',
    '\tglob.match(p, null, s)',
    '}',
    '',
    '# Grant operations are classified once per evaluation (functions are not memoized, sets are);',
    '# "kms:*" grants everything.',
    '_operations contains op if {',
    '\tsome s in _subjects',
    '\tsome g in s.key.access',
    '\tsome op in g.operations',
    '}',
    '',
    '_admin_ops contains op if {',
    '\tsome op in _operations',
    '\t_any_match(_admin_operations, op)',
    '}',
    '',
    '_admin_ops contains op if {',
    '\tsome op in _operations',
    '\top in _wildcard_operations',
    '}',
    '',
    '_use_ops contains op if {',
    '\tsome op in _operations',
    '\t_any_match(_use_operations, op)',
    '}',
    '',
    '_use_ops contains op if {',
    '\tsome op in _operations',
    '\top in _wildcard_operations',
    '}',
    '',
    '_is_admin_grant(g) if {',
    '\tsome op in g.operations',
    '\top in _admin_ops',
    '}',
    '',
    '_is_use_grant(g) if {',
    '\tsome op in g.operations',
    '\top in _use_ops',
    '}',
    '',
    '_cmp_ok(x, ">=", d) if x >= d',
    '',
    '_cmp_ok(x, "<=", d) if x <= d',
    '',
    '_cmp_ok(x, ">", d) if x > d',
    '',
    '_cmp_ok(x, "<", d) if x < d',
    '',
    '_cmp_ok(x, "==", d) if x == d',
    '',
    '_bound_ok(x, cs) if {',
    '\tevery c in cs {',
    '\t\t_cmp_ok(x, c[0], c[1])',
    '\t}',
    '}',
    '',
    '_glob_any(p, xs) if {',
    '\tsome x in xs',
    '\tglob.match(p, null, x)',
    '}',
    '',
    '_subject_named(s, p) if glob.match(p, null, s.id)',
    '',
    '_subject_named(s, p) if {',
    '\tsome n in s.aliases',
    '\tglob.match(p, null, n)',
    '}',
  ]);

  // The header depends on which rules exist (an empty partial set would be an unsafe reference),
  // so it is generated last and the body's line numbers are shifted below it.
  const body = out.splice(0, out.length);
  const bodyMap = new Map(lineMap);
  lineMap.clear();
  const hasViolations = body.some((l) => l.startsWith('_violations contains'));
  const hasActions = body.some((l) => l.startsWith('_actions contains'));
  const hasExceptions = ast.exceptions.length > 0;
  const filter = (x: string): string[] => (hasExceptions ? [`\tnot _excepted(${x})`] : []);
  block(undefined, [
    `# Generated by keywarden from ${withLoc ? oneLine(ast.file) : 'a policy'}. Do not edit: change the policy and compile again.`,
    `package keywarden.${suffix}`,
  ]);
  block(undefined, [
    '# The decision: the one entrypoint of the wasm bundle.',
    'decision := {"violations": violations, "actions": actions}',
    ...(hasViolations ? ['', 'violations contains v if {', '\tsome v in _violations', ...filter('v'), '}'] : []),
    '',
    '# Custom modules (package keywarden.custom.<name>) add violations and actions to the same decision.',
    'violations contains v if {',
    '\tsome v in data.keywarden.custom[_].violations',
    ...filter('v'),
    '}',
    ...(hasActions ? ['', 'actions contains a if {', '\tsome a in _actions', ...filter('a'), '}'] : []),
    '',
    'actions contains a if {',
    '\tsome a in data.keywarden.custom[_].actions',
    ...filter('a'),
    '}',
  ]);
  const shift = out.length + 1;
  out.push('', ...body);
  for (const [line, loc] of bodyMap) lineMap.set(line + shift, loc);
  for (const r of rules) r.regoLine += shift;
  const rego = `${out.join('\n')}\n`;
  return { packageName: `keywarden.${suffix}`, entrypoint: `keywarden/${suffix}/decision`, modulePath: `keywarden/${suffix}.rego`, rego, lineMap, rules };

  function boundArg(b: Bound): string {
    return `[${b.comparisons.map((c) => `[${q(c.op)}, ${num(c.days)}]`).join(', ')}]`;
  }

  function compileKey(k: KeyRule, i: number): void {
    const set = `_key${i}`;
    const sel: string[] = [];
    if (k.match.backend) sel.push(`\ts.key.backend == ${q(k.match.backend)}`);
    if (k.match.id) sel.push(`\tglob.match(${q(k.match.id)}, null, s.key.id)`);
    if (k.match.alias) sel.push(`\t_glob_any(${q(k.match.alias)}, s.key.aliases)`);
    if (k.match.label) sel.push(`\t_glob_any(${q(k.match.label)}, s.key.labels)`);
    for (const [tag, g] of Object.entries(k.match.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) sel.push(`\tglob.match(${q(g)}, null, s.key.tags${refPart(tag)})`);
    block(
      k.match.loc,
      [`# keys[${i}] ${k.name}: which keys (${where(k.match.loc)})`, `${set} contains s if {`, '\tsome s in _subjects', ...sel, '}'],
      { id: `keys/${k.name}/match`, description: `keys[${i}] ${k.name}: selects keys` },
    );
    const rid = (part: string): string => `keys/${k.name}/${part}`;
    const rule = (id: string, loc: Loc, description: string, body: string[], message: string, subject = 's.subject'): void => {
      block(loc, [`# ${description} (${where(loc)})`, '_violations contains v if {', `\tsome s in ${set}`, ...body, ...violation(id, loc, k.severity, message, subject), '}'], { id, description });
    };
    const r = k.rotation;
    if (r?.maxAge) {
      rule(
        rid('rotation/max-age'),
        r.maxAge.loc,
        `keys[${i}] ${k.name}: rotate at least every ${r.maxAge.text}`,
        ['\tage := (input.nowMs - s.key.rotatedAtMs) / 86400000', `\tage > ${num(r.maxAge.days)}`],
        `sprintf("Key %s was last rotated %d days ago; policy %s allows at most ${r.maxAge.text}.", [s.subject.id, floor(age), ${q(k.name)}])`,
      );
    }
    if (r?.automatic?.value === 'required') {
      rule(rid('rotation/automatic'), r.automatic.loc, `keys[${i}] ${k.name}: automatic rotation required`, ['\tnot s.key.rotation.enabled'], `sprintf("Key %s does not rotate automatically; policy %s requires it.", [s.subject.id, ${q(k.name)}])`);
    }
    if (r?.automatic?.value === 'forbidden') {
      rule(rid('rotation/automatic'), r.automatic.loc, `keys[${i}] ${k.name}: automatic rotation forbidden`, ['\ts.key.rotation.enabled == true'], `sprintf("Key %s rotates automatically; policy %s forbids it.", [s.subject.id, ${q(k.name)}])`);
    }
    if (r?.period) {
      rule(
        rid('rotation/period'),
        r.period.loc,
        `keys[${i}] ${k.name}: rotation period ${r.period.text}`,
        ['\tperiod := s.key.rotation.periodDays', '\tis_number(period)', `\tnot _bound_ok(period, ${boundArg(r.period)})`],
        `sprintf("Key %s rotates every %d days; policy %s requires ${r.period.text}.", [s.subject.id, period, ${q(k.name)}])`,
      );
    }
    const sp = k.spec;
    if (sp?.allow) {
      rule(
        rid('spec/allow'),
        sp.allow.loc,
        `keys[${i}] ${k.name}: allowed key specs`,
        ['\tspec := s.key.spec', '\tis_string(spec)', `\tnot _any_match(${list(sp.allow.value)}, spec)`],
        `sprintf("Key %s has spec %s, which policy %s does not allow.", [s.subject.id, spec, ${q(k.name)}])`,
      );
    }
    if (sp?.deny) {
      rule(
        rid('spec/deny'),
        sp.deny.loc,
        `keys[${i}] ${k.name}: denied key specs`,
        ['\tspec := s.key.spec', `\t_any_match(${list(sp.deny.value)}, spec)`],
        `sprintf("Key %s has spec %s, which policy %s denies.", [s.subject.id, spec, ${q(k.name)}])`,
      );
    }
    if (sp?.minSize) {
      const sizes = Object.entries(sp.minSize.value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const obj = `{${sizes.map(([f, n]) => `${q(f)}: ${n}`).join(', ')}}`;
      rule(
        rid('spec/min-size'),
        sp.minSize.loc,
        `keys[${i}] ${k.name}: minimum key sizes`,
        [`\tminimum := ${obj}[s.key.specFamily]`, '\ts.key.specBits < minimum'],
        `sprintf("Key %s is %s with %d bits; policy %s requires at least %d.", [s.subject.id, s.key.specFamily, s.key.specBits, ${q(k.name)}, minimum])`,
      );
    }
    const a = k.access;
    if (a?.admins) {
      rule(
        rid('access/admins'),
        a.admins.loc,
        `keys[${i}] ${k.name}: who may administer`,
        ['\tsome g in s.key.access', '\t_is_admin_grant(g)', `\tnot _any_match(${list(a.admins.value)}, g.principal)`],
        `sprintf("%s may administer key %s but is not among the admins of policy %s.", [g.principal, s.subject.id, ${q(k.name)}])`,
      );
    }
    if (a?.users) {
      rule(
        rid('access/users'),
        a.users.loc,
        `keys[${i}] ${k.name}: who may use`,
        ['\tsome g in s.key.access', '\t_is_use_grant(g)', '\tnot _is_admin_grant(g)', `\tnot _any_match(${list(a.users.value)}, g.principal)`],
        `sprintf("%s may use key %s but is not among the users of policy %s.", [g.principal, s.subject.id, ${q(k.name)}])`,
      );
    }
    if (a?.forbid) {
      if (a.forbid.value.includes('wildcard-principal')) {
        rule(
          rid('access/forbid/wildcard-principal'),
          a.forbid.loc,
          `keys[${i}] ${k.name}: no wildcard principal`,
          ['\tsome g in s.key.access', '\tcontains(g.principal, "*")'],
          `sprintf("Key %s grants access to the wildcard principal %s.", [s.subject.id, g.principal])`,
        );
      }
      const ops = a.forbid.value.filter((f) => f !== 'wildcard-principal');
      if (ops.length > 0) {
        rule(
          rid('access/forbid/operation'),
          a.forbid.loc,
          `keys[${i}] ${k.name}: forbidden grants`,
          ['\tsome g in s.key.access', '\tsome op in g.operations', `\top in ${list(ops)}`],
          `sprintf("Key %s grants %s to %s, which policy %s forbids.", [s.subject.id, op, g.principal, ${q(k.name)}])`,
        );
      }
    }
    if (a?.separateDuties?.value === true) {
      rule(
        rid('access/separate-duties'),
        a.separateDuties.loc,
        `keys[${i}] ${k.name}: separation of duties`,
        ['\tsome g1 in s.key.access', '\t_is_admin_grant(g1)', '\tsome g2 in s.key.access', '\t_is_use_grant(g2)', '\tg1.principal == g2.principal'],
        `sprintf("%s both administers and uses key %s; policy %s requires separate duties.", [g1.principal, s.subject.id, ${q(k.name)}])`,
      );
    }
    const pw = k.destroy?.pendingWindow;
    if (pw) {
      rule(
        rid('destroy/pending-window'),
        pw.loc,
        `keys[${i}] ${k.name}: pending window before destruction ${pw.text}`,
        ['\twindow := s.key.pendingWindowDays', '\tis_number(window)', `\tnot _bound_ok(window, ${boundArg(pw)})`],
        `sprintf("Key %s has a %d-day pending window before destruction; policy %s requires ${pw.text}.", [s.subject.id, window, ${q(k.name)}])`,
      );
    }
    if (k.do.length > 0) {
      block(k.loc, [
        `# keys[${i}] ${k.name}: actions on violation (${where(k.loc)})`,
        '_actions contains a if {',
        '\tsome v in _violations',
        `\tstartswith(v.rule, ${q(`keys/${k.name}/`)})`,
        `\tsome t in ${list(k.do)}`,
        '\ta := {"type": t, "rule": v.rule, "severity": v.severity, "policy": v.policy, "subject": v.subject}',
        '}',
      ]);
    }
  }

  function compileLeaks(): void {
    const ignore = ast.secrets.ignorePaths;
    block(ast.secrets.loc, [
      `# Findings the policy judges${ignore.length > 0 ? ' (secrets.ignore-paths removed)' : ''}.`,
      '_findings contains f if {',
      '\tsome f in input.findings',
      ...(ignore.length > 0 ? [`\tnot _any_match(${list(ignore)}, f.file)`] : []),
      '}',
    ]);
    ast.secrets.onLeak.forEach((r: LeakRule, i: number) => {
      const set = `_leak${i}`;
      const conds: string[] = [];
      if (r.when.type) conds.push(`\t_any_match(${list(r.when.type)}, f.type)`);
      if (r.when.branch) conds.push(`\t_any_match(${list(r.when.branch)}, input.event.branch)`);
      if (r.when.path) conds.push(`\t_any_match(${list(r.when.path)}, f.file)`);
      if (r.when.visibility) conds.push(`\tinput.repo.visibility in ${list(r.when.visibility)}`);
      const id = `secrets/on-leak/${i}`;
      const desc = `secrets.on-leak[${i}]: ${describeWhen(r)} → ${r.do.join(', ')}`;
      const message = r.message
        ? `sprintf("%s: %s at %s:%d.", [${q(r.message)}, f.title, f.file, f.startLine])`
        : 'sprintf("Leaked secret (%s) at %s:%d.", [f.title, f.file, f.startLine])';
      block(
        r.loc,
        [
          `# ${desc} (${where(r.loc)})`,
          `${set} contains f if {`,
          '\tsome f in _findings',
          ...conds,
          '}',
          '',
          '_violations contains v if {',
          `\tsome f in ${set}`,
          ...violation(id, r.loc, r.severity, message, '{"kind": "finding", "file": f.file, "line": f.startLine, "column": f.startColumn, "fingerprint": f.fingerprint, "type": f.type}'),
          '}',
          '',
          '_actions contains a if {',
          `\tsome f in ${set}`,
          `\tsome t in ${list(r.do)}`,
          '\ta := {',
          '\t\t"type": t,',
          `\t\t"rule": ${q(id)},`,
          `\t\t"severity": ${q(r.severity)},`,
          `\t\t"policy": ${policyObj(r.loc)},`,
          '\t\t"subject": {"kind": "finding", "file": f.file, "line": f.startLine, "column": f.startColumn, "fingerprint": f.fingerprint, "type": f.type},',
          '\t}',
          '}',
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
          '_violations contains v if {',
          '\tsome file in input.repo.files',
          `\tglob.match(${q(g.value)}, null, file)`,
          ...violation(id, g.loc, s.severity, `sprintf("%s must never be committed (it matches %s).", [file, ${q(g.value)}])`, '{"kind": "file", "file": file}'),
          '}',
        ],
        { id: `${id}/${i}`, description: `storage.forbid-files[${i}]: ${oneLine(g.value)}` },
      );
    });
    const rr = s.requireReference;
    if (rr) {
      const id = 'storage/require-reference';
      block(
        rr.loc,
        [
          `# storage.require-reference: secrets come from ${rr.value.join(', ')} (${where(rr.loc)})`,
          '_violations contains v if {',
          '\tsome f in input.facts',
          '\tf.kind == "secret-ref"',
          `\tnot f.source in ${list(rr.value)}`,
          ...violation(
            id,
            rr.loc,
            s.severity,
            `sprintf("Secret %s is taken from %s; the policy requires a reference to ${rr.value.join(', ')}.", [f.name, f.source])`,
            '{"kind": "config", "file": f.file, "line": f.line}',
          ),
          '}',
        ],
        { id, description: `storage.require-reference: ${rr.value.join(', ')}` },
      );
    }
  }

  function compileException(e: PolicyException, i: number): void {
    const conds = [`\tinput.nowMs < ${e.expiresMs}`];
    if (e.fingerprint) conds.push(`\tx.subject.fingerprint == ${q(e.fingerprint)}`);
    if (e.key) conds.push(`\t_subject_named(x.subject, ${q(e.key)})`);
    if (e.rule) conds.push(`\tglob.match(${q(e.rule)}, null, x.rule)`);
    if (e.path) conds.push(`\tglob.match(${q(e.path)}, null, x.subject.file)`);
    block(
      e.loc,
      [
        `# exceptions[${i}]: ${oneLine(e.reason)} (owner ${oneLine(e.owner)}, until ${e.expires}) (${where(e.loc)})`,
        '_excepted(x) if {',
        ...conds,
        '}',
      ],
      { id: `exceptions/${i}`, description: `exceptions[${i}]: ${oneLine(e.reason)}` },
    );
  }
}

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
