/**
 * Plain policy value (from YAML or from `definePolicy`) → AST, with the checks JSON Schema cannot
 * express: duration bounds, satisfiable comparisons, glob and regex syntax, real dates, duplicate
 * names. Defensive on purpose: it also runs on values that failed the schema, so people see every
 * problem in one go, and it must never throw on a wrong type.
 */
import { KeywardenError } from '../../errors.js';
import { createLinearPattern } from '../../scan/linear-pattern.js';
import type { Severity } from '../../scan/types.js';
import {
  ACTIONS,
  type ActionType,
  type Bound,
  type DetectorRef,
  KEY_FAMILIES,
  type KeyFamilyName,
  type KeyRule,
  type LeakRule,
  type Loc,
  type Located,
  type PolicyAst,
  type PolicyException,
  REFERENCE_SOURCES,
  type ReferenceSource,
  type RotationMode,
  type Visibility,
} from './ast.js';
import { boundInterval, globProblem, globShape, MAX_ENGINE_GLOBS, parseComparison, parseDateEnd, parseDuration } from './syntax.js';

export type PathSeg = string | number;

/** One problem found in a policy; turned into a located `KeywardenError` by the caller. */
export interface PolicyProblem {
  /** Stable, machine-readable reason, e.g. `duration-range`, `schema.required`. */
  reason: string;
  message: string;
  hint: string;
  path: PathSeg[];
  /** Point at the mapping key instead of the value (unknown or misplaced properties). */
  at?: 'key' | 'value';
}

export type Locate = (path: readonly PathSeg[], at?: 'key' | 'value') => Loc;

/** Limits that real KMSs put on settings (AWS KMS: rotation period 90–2560 days, deletion window 7–30 days). */
const BACKEND_LIMITS: Record<string, { rotationDays?: [number, number]; pendingWindowDays?: [number, number] }> = {
  'aws-kms': { rotationDays: [90, 2560], pendingWindowDays: [7, 30] },
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const sev = (v: unknown, d: Severity): Severity => (typeof v === 'string' && ['critical', 'high', 'medium', 'low', 'info'].includes(v) ? (v as Severity) : d);
const acts = (v: unknown): ActionType[] => strs(v).filter((a): a is ActionType => (ACTIONS as readonly string[]).includes(a));

export interface BuildAstResult {
  ast: PolicyAst;
  problems: PolicyProblem[];
}

export function buildAst(value: unknown, file: string, locate: Locate): BuildAstResult {
  const problems: PolicyProblem[] = [];
  const add = (reason: string, path: PathSeg[], message: string, hint: string, at?: 'key' | 'value'): void => {
    problems.push({ reason, path, message, hint, ...(at ? { at } : {}) });
  };
  const root: Obj = isObj(value) ? value : {};
  const loc = (path: PathSeg[], at?: 'key' | 'value'): Loc => locate(path, at);
  const located = <T>(v: T, path: PathSeg[]): Located<T> => ({ value: v, loc: loc(path) });

  const engineGlobs = new Set<string>();
  const checkGlobs = (v: unknown, path: PathSeg[]): void => {
    if (typeof v === 'string') {
      const p = globProblem(v);
      if (p) add('glob', path, `The glob ${JSON.stringify(v)} ${p}.`, 'Escape a literal [ ] { } with a backslash, or close the bracket.');
      else if (globShape(v).kind === 'engine' && !engineGlobs.has(v)) {
        engineGlobs.add(v);
        if (engineGlobs.size === MAX_ENGINE_GLOBS + 1)
          add(
            'glob-count',
            path,
            `The policy has more than ${MAX_ENGINE_GLOBS} different globs that need the glob engine (with ?, [ ], { } or several *), and OPA's WebAssembly cannot evaluate that many in one decision.`,
            'Use simpler globs (a prefix*, *suffix, *part* or a*b), or fewer of them.',
          );
      }
    } else if (Array.isArray(v)) v.forEach((g, i) => checkGlobs(g, [...path, i]));
  };

  const backendKind = isObj(root.backend) && typeof root.backend.kind === 'string' ? root.backend.kind : undefined;

  const bound = (v: unknown, path: PathSeg[], what: string, limits: [number, number] | undefined, backend: string | undefined): Bound | undefined => {
    const texts = strs(v);
    if (texts.length === 0) return undefined;
    const comparisons = [];
    for (const [i, t] of texts.entries()) {
      const c = parseComparison(t);
      if (!c) {
        add('comparison', Array.isArray(v) ? [...path, i] : path, `${what}: ${JSON.stringify(t)} is not a comparison.`, 'Write an operator and a duration, e.g. ">= 14d" or "<= 365d".');
        continue;
      }
      comparisons.push(c);
    }
    if (comparisons.length === 0) return undefined;
    const iv = boundInterval(comparisons);
    if (iv.empty) add('bound-empty', path, `${what}: no duration satisfies ${comparisons.map((c) => c.text).join(' and ')}.`, 'Check the direction of each comparison.');
    if (limits && backend) {
      const [lo, hi] = limits;
      for (const [i, c] of comparisons.entries()) {
        if (c.days < lo || c.days > hi)
          add('backend-limit', Array.isArray(v) ? [...path, i] : path, `${what}: ${c.text} is outside what ${backend} allows (${lo}–${hi} days).`, `Use a duration between ${lo}d and ${hi}d.`);
      }
    }
    return { comparisons, text: comparisons.map((c) => c.text).join(', '), loc: loc(path) };
  };

  // keys
  const keys: KeyRule[] = [];
  const seenKeys = new Map<string, number>();
  const rawKeys = Array.isArray(root.keys) ? root.keys : [];
  rawKeys.forEach((k, i) => {
    if (!isObj(k)) return;
    const base: PathSeg[] = ['keys', i];
    const name = typeof k.name === 'string' ? k.name : `key-${i}`;
    if (typeof k.name === 'string') {
      const prev = seenKeys.get(k.name);
      if (prev !== undefined) add('duplicate-key', [...base, 'name'], `Key class "${k.name}" is defined twice (also keys[${prev}]).`, 'Give every key class a unique name, or merge the two.');
      else seenKeys.set(k.name, i);
    }
    const m = isObj(k.match) ? k.match : {};
    for (const f of ['id', 'alias', 'label', 'spec', 'resource', 'path'] as const) checkGlobs(m[f], [...base, 'match', f]);
    if (isObj(m.tags)) for (const [t, g] of Object.entries(m.tags)) checkGlobs(g, [...base, 'match', 'tags', t]);
    const mBackend = typeof m.backend === 'string' ? m.backend : backendKind;
    const limits = mBackend ? BACKEND_LIMITS[mBackend] : undefined;
    const rule: KeyRule = {
      name,
      match: {
        ...(typeof m.backend === 'string' ? { backend: m.backend } : {}),
        ...(typeof m.id === 'string' ? { id: m.id } : {}),
        ...(typeof m.alias === 'string' ? { alias: m.alias } : {}),
        ...(typeof m.label === 'string' ? { label: m.label } : {}),
        ...(isObj(m.tags) ? { tags: Object.fromEntries(Object.entries(m.tags).filter((e): e is [string, string] => typeof e[1] === 'string')) } : {}),
        ...(m.family !== undefined ? { family: strs(m.family).filter((f): f is KeyFamilyName => (KEY_FAMILIES as readonly string[]).includes(f)) } : {}),
        ...(typeof m.spec === 'string' ? { spec: m.spec } : {}),
        ...(typeof m.resource === 'string' ? { resource: m.resource } : {}),
        ...(typeof m.path === 'string' ? { path: m.path } : {}),
        loc: loc(isObj(k.match) ? [...base, 'match'] : base),
      },
      severity: sev(k.severity, 'high'),
      do: acts(k.do),
      loc: loc(base),
      ...(typeof k.description === 'string' ? { description: k.description } : {}),
    };
    if (isObj(k.spec)) {
      const s = k.spec;
      const p = [...base, 'spec'];
      checkGlobs(s.allow, [...p, 'allow']);
      checkGlobs(s.deny, [...p, 'deny']);
      rule.spec = {
        loc: loc(p),
        ...(Array.isArray(s.allow) ? { allow: located(strs(s.allow), [...p, 'allow']) } : {}),
        ...(Array.isArray(s.deny) ? { deny: located(strs(s.deny), [...p, 'deny']) } : {}),
        ...(isObj(s['min-size'])
          ? { minSize: located(Object.fromEntries(Object.entries(s['min-size']).filter((e): e is [string, number] => Number.isInteger(e[1]))), [...p, 'min-size']) }
          : {}),
      };
    }
    if (isObj(k.rotation)) {
      const r = k.rotation;
      const p = [...base, 'rotation'];
      const maxAge = typeof r['max-age'] === 'string' ? parseDuration(r['max-age']) : undefined;
      const mode = typeof r.automatic === 'string' && ['required', 'optional', 'forbidden'].includes(r.automatic) ? (r.automatic as RotationMode) : undefined;
      if (mode === 'forbidden' && r.period !== undefined)
        add('rotation-conflict', [...p, 'period'], 'A rotation period is set but automatic rotation is forbidden.', 'Remove `period`, or set `automatic: required`.');
      if (maxAge === 0) add('duration-range', [...p, 'max-age'], 'A max-age of zero makes every key violate the policy.', 'Use a positive duration such as 365d.');
      const period = bound(r.period, [...p, 'period'], 'rotation period', limits?.rotationDays, mBackend);
      rule.rotation = {
        loc: loc(p),
        ...(maxAge !== undefined && typeof r['max-age'] === 'string' ? { maxAge: { text: r['max-age'], days: maxAge, loc: loc([...p, 'max-age']) } } : {}),
        ...(mode ? { automatic: located(mode, [...p, 'automatic']) } : {}),
        ...(period ? { period } : {}),
      };
    }
    if (isObj(k.access)) {
      const a = k.access;
      const p = [...base, 'access'];
      checkGlobs(a.admins, [...p, 'admins']);
      checkGlobs(a.users, [...p, 'users']);
      checkGlobs(a.exempt, [...p, 'exempt']);
      strs(a.forbid).forEach((f, j) => {
        if (f !== 'wildcard-principal' && !f.includes(':'))
          add('forbid-entry', [...p, 'forbid', j], `"${f}" is neither "wildcard-principal" nor an operation such as "kms:*".`, 'List operations as service:Action (e.g. "kms:*", "kms:Decrypt"), or "wildcard-principal".');
      });
      rule.access = {
        loc: loc(p),
        ...(Array.isArray(a.admins) ? { admins: located(strs(a.admins), [...p, 'admins']) } : {}),
        ...(Array.isArray(a.users) ? { users: located(strs(a.users), [...p, 'users']) } : {}),
        ...(Array.isArray(a.forbid) ? { forbid: located(strs(a.forbid), [...p, 'forbid']) } : {}),
        ...(typeof a['separate-duties'] === 'boolean' ? { separateDuties: located(a['separate-duties'], [...p, 'separate-duties']) } : {}),
        ...(Array.isArray(a.exempt) ? { exempt: located(strs(a.exempt), [...p, 'exempt']) } : {}),
      };
    }
    if (isObj(k.destroy)) {
      const p = [...base, 'destroy'];
      const w = bound(k.destroy['pending-window'], [...p, 'pending-window'], 'pending window', limits?.pendingWindowDays, mBackend);
      rule.destroy = { loc: loc(p), ...(w ? { pendingWindow: w } : {}) };
    }
    keys.push(rule);
  });

  // secrets
  const sec = isObj(root.secrets) ? root.secrets : {};
  const detectors: DetectorRef[] = [];
  const seenDetectors = new Set<string>();
  (Array.isArray(sec.detectors) ? sec.detectors : []).forEach((d, i) => {
    const p: PathSeg[] = ['secrets', 'detectors', i];
    if (typeof d === 'string') {
      detectors.push({ kind: 'preset', name: d, loc: loc(p) });
      return;
    }
    if (!isObj(d) || typeof d.id !== 'string' || typeof d.pattern !== 'string') return;
    if (seenDetectors.has(d.id)) add('duplicate-detector', [...p, 'id'], `Detector "${d.id}" is defined twice.`, 'Give every custom detector a unique id.');
    seenDetectors.add(d.id);
    const flags = typeof d.flags === 'string' ? d.flags : '';
    // The scanner compiles custom patterns with a linear-time engine (RE2 semantics); what it
    // cannot run (backreferences, lookaround) is reported here, at the `pattern:` line.
    try {
      createLinearPattern(d.pattern, flags, { detector: d.id });
    } catch (e) {
      const reason = e instanceof KeywardenError && typeof e.details?.reason === 'string' ? e.details.reason : 'syntax';
      if (reason === 'syntax' || !(e instanceof KeywardenError))
        add('regex', [...p, 'pattern'], `The pattern of detector "${d.id}" is not a valid regular expression.`, 'Check brackets and escapes; patterns use JavaScript regex syntax.');
      else add(`regex.${reason}`, [...p, 'pattern'], e.message, e.hint ?? 'Patterns run on a linear-time engine (RE2).');
    }
    detectors.push({
      kind: 'custom',
      id: d.id,
      pattern: d.pattern,
      loc: loc(p),
      ...(flags ? { flags } : {}),
      ...(typeof d.type === 'string' ? { type: d.type } : {}),
      ...(typeof d.title === 'string' ? { title: d.title } : {}),
      ...(typeof d.severity === 'string' ? { severity: sev(d.severity, 'high') } : {}),
      ...(Array.isArray(d.keywords) ? { keywords: strs(d.keywords) } : {}),
      ...(typeof d['min-entropy'] === 'number' ? { minEntropy: d['min-entropy'] } : {}),
    });
  });
  checkGlobs(sec['ignore-paths'], ['secrets', 'ignore-paths']);
  const onLeak: LeakRule[] = [];
  (Array.isArray(sec['on-leak']) ? sec['on-leak'] : []).forEach((r, i) => {
    if (!isObj(r)) return;
    const p: PathSeg[] = ['secrets', 'on-leak', i];
    const w = isObj(r.when) ? r.when : {};
    for (const f of ['type', 'branch', 'path'] as const) checkGlobs(w[f], [...p, 'when', f]);
    const when: LeakRule['when'] = {};
    if (w.type !== undefined) when.type = strs(w.type);
    if (w.branch !== undefined) when.branch = strs(w.branch);
    if (w.path !== undefined) when.path = strs(w.path);
    if (w.visibility !== undefined) when.visibility = strs(w.visibility) as Visibility[];
    onLeak.push({
      when,
      do: acts(r.do),
      severity: sev(r.severity, 'high'),
      loc: loc(p),
      ...(typeof r.message === 'string' ? { message: r.message } : {}),
    });
  });

  // storage
  let storage: PolicyAst['storage'];
  if (isObj(root.storage)) {
    const s = root.storage;
    checkGlobs(s['forbid-files'], ['storage', 'forbid-files']);
    const refs = strs(s['require-reference']).filter((x): x is ReferenceSource => (REFERENCE_SOURCES as readonly string[]).includes(x));
    storage = {
      forbidFiles: strs(s['forbid-files']).map((g, i) => located(g, ['storage', 'forbid-files', i])),
      severity: sev(s.severity, 'high'),
      loc: loc(['storage']),
      ...(Array.isArray(s['require-reference']) ? { requireReference: located(refs, ['storage', 'require-reference']) } : {}),
    };
  }

  // drift
  let drift: PolicyAst['drift'];
  if (isObj(root.drift) && typeof root.drift.every === 'string') {
    const days = parseDuration(root.drift.every);
    if (days !== undefined && days < 1 / 24) add('drift-interval', ['drift', 'every'], `drift: every ${root.drift.every} is too often.`, 'Use at least 1h: each comparison reads the whole key inventory.', 'value');
    else if (days !== undefined && days > 366) add('drift-interval', ['drift', 'every'], `drift: every ${root.drift.every} is longer than a year.`, 'Use at most 1y: drift a year old is no longer news.', 'value');
    else if (days !== undefined) drift = { every: located(root.drift.every, ['drift', 'every']), everyMs: Math.round(days * 86_400_000), loc: loc(['drift']) };
  }

  // exceptions
  const exceptions: PolicyException[] = [];
  (Array.isArray(root.exceptions) ? root.exceptions : []).forEach((e, i) => {
    if (!isObj(e)) return;
    const p: PathSeg[] = ['exceptions', i];
    for (const f of ['key', 'rule', 'path'] as const) checkGlobs(e[f], [...p, f]);
    if (e.fingerprint === undefined && e.key === undefined && e.rule === undefined && e.path === undefined)
      add('exception-scope', p, 'This exception does not say what it applies to.', 'Add at least one of fingerprint, key, rule or path.');
    const expiresMs = typeof e.expires === 'string' ? parseDateEnd(e.expires) : undefined;
    if (typeof e.expires === 'string' && expiresMs === undefined && /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(e.expires))
      add('date', [...p, 'expires'], `${e.expires} is not a calendar date.`, 'Write the expiry as YYYY-MM-DD, e.g. 2027-01-31.');
    exceptions.push({
      reason: typeof e.reason === 'string' ? e.reason : '',
      owner: typeof e.owner === 'string' ? e.owner : '',
      expires: typeof e.expires === 'string' ? e.expires : '',
      expiresMs: expiresMs ?? 0,
      loc: loc(p),
      ...(typeof e.fingerprint === 'string' ? { fingerprint: e.fingerprint } : {}),
      ...(typeof e.key === 'string' ? { key: e.key } : {}),
      ...(typeof e.rule === 'string' ? { rule: e.rule } : {}),
      ...(typeof e.path === 'string' ? { path: e.path } : {}),
    });
  });

  const rawExtends = strs(root.extends);
  const ast: PolicyAst = {
    version: 1,
    name: typeof root.name === 'string' ? root.name : 'policy',
    file,
    extends: rawExtends.map((x, i) => located(x, Array.isArray(root.extends) ? ['extends', i] : ['extends'])),
    keys,
    secrets: {
      detectors,
      ignorePaths: strs(sec['ignore-paths']),
      onLeak,
      ...(isObj(root.secrets) ? { loc: loc(['secrets']) } : {}),
    },
    exceptions,
    loc: loc([]),
    ...(storage ? { storage } : {}),
    ...(drift ? { drift } : {}),
    ...(isObj(root.backend) && typeof root.backend.kind === 'string'
      ? {
          backend: {
            kind: root.backend.kind as NonNullable<PolicyAst['backend']>['kind'],
            loc: loc(['backend']),
            ...(typeof root.backend.region === 'string' ? { region: root.backend.region } : {}),
          },
        }
      : {}),
  };
  return { ast, problems };
}
