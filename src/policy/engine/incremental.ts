/**
 * Incremental evaluation: a decision is the union of per-item parts (every generated rule judges
 * one key, finding, config fact or changed file at a time; see `PartialDecisionInfo`), so each
 * item's part is cached and only the items not seen before, or whose part may have changed since,
 * are evaluated, in one call of the bundle's `partial` entrypoint. A server judging push after push
 * against the same key inventory and mostly the same findings then moves a few items into wasm per
 * decision instead of the whole input (docs/benchmarks.md, Policy).
 *
 * Exactness, held by test/policy/incremental.test.ts (decisions compared with full evaluations
 * over random streams of inputs):
 * - every item is validated in every decision, as in a full evaluation;
 * - an item is identified by the fields the rules read (`PartialDecisionInfo.findingFields`,
 *   `factFields`; keys and key declarations by their whole JSON text); findings are cached per
 *   context, the value of the bundle's `context` entrypoint (which leak rules the branch and the
 *   visibility let apply; computed once per distinct branch and visibility), so a push to a new
 *   branch reuses the parts of a branch judged alike;
 * - a part is reused only while `nowMs` stays strictly between the same two neighbouring
 *   breakpoints it was computed between: exception expiries for every item; for keys, the moments
 *   their age crosses a `max-age`, and every whole day of age (the message says the age in days);
 * - parts are merged as a set (identical violations from two items count once) and sorted as the
 *   full evaluation sorts them.
 * Custom Rego modules can read anything, so a bundle with them is evaluated whole (`PolicyEngine`).
 */
import { ErrorCode, KeywardenError } from '../../errors.js';
import type { PartialDecisionInfo } from '../compile/compile-policy.js';
import { PolicyError } from '../dsl/policy-error.js';
import { type Decision, type DecisionAction, type ItemKind, type ManagedKeyInput, type PreparedContext, prepareContext, prepareInput, prepareItem, validateItems, type Violation } from '../input.js';
import { decisionSortKey, type PolicyEvaluator } from './evaluator.js';

const DAY_MS = 86_400_000;

export interface IncrementalOptions {
  /** Cached item parts kept per context before the oldest are dropped. Default 100,000. */
  maxItems?: number;
  /** Contexts (branch, visibility, …) kept. Default 64. */
  maxContexts?: number;
}

/** A violation or action of one item's part, with what merging and sorting need. */
interface Part {
  readonly x: Violation | DecisionAction;
  readonly action: boolean;
  readonly json: string;
  /** `decisionSortKey(x)`: the full evaluation sorts by it, then by `json`. */
  readonly sort: string;
  /** `json` marked as violation or action: equal ids are the same member of the decision. */
  readonly id: string;
}

/** One item's part of the decision, valid for `nowMs` strictly between `lo` and `hi`, or equal to `at`. */
interface Entry {
  readonly parts: readonly Part[];
  readonly at: number;
  readonly lo: number;
  readonly hi: number;
}

/** Cached parts by item kind and item key; findings' parts are only valid in one context. */
type ContextCache = Record<Item['kind'], Map<string, Entry>>;

/** An item of the decision: where it comes from, its cache key, and the raw value. */
interface Item {
  kind: ItemKind | 'files';
  index: number;
  key: string;
  value: unknown;
}

export class IncrementalEvaluator {
  /** Findings' parts by context; keys', facts' and files' parts are the same in every context. */
  private readonly findings = new Map<string, Map<string, Entry>>();
  private readonly shared = { keys: new Map<string, Entry>(), facts: new Map<string, Entry>(), files: new Map<string, Entry>() };
  /** The `context` entrypoint's value (as JSON) by the values of `contextPaths`. */
  private readonly signatures = new Map<string, string>();
  private inventory: { keys: readonly unknown[]; cacheKeys: readonly string[] } | undefined;
  private readonly maxItems: number;
  private readonly maxContexts: number;
  private readonly expires: readonly number[];
  private readonly keyAges: readonly number[];
  /** Items of the last decision: evaluated in wasm, and taken from the cache. */
  readonly last = { evaluated: 0, reused: 0 };

  constructor(
    private readonly evaluator: PolicyEvaluator,
    private readonly info: PartialDecisionInfo,
    options: IncrementalOptions = {},
  ) {
    this.maxItems = options.maxItems ?? 100_000;
    this.maxContexts = options.maxContexts ?? 64;
    this.expires = [...info.expiresMs].sort((a, b) => a - b);
    this.keyAges = [...info.keyAgesMs].sort((a, b) => a - b);
  }

  /**
   * Judge `keys` in every evaluation whose input has no `keys` of its own. Validated here (a
   * `PolicyError` names every bad key); `undefined` forgets the inventory. Cached parts of keys
   * that did not change stay valid.
   */
  setKeyInventory(keys: readonly ManagedKeyInput[] | undefined): void {
    if (keys === undefined) {
      this.inventory = undefined;
      return;
    }
    prepareInput({ now: '1970-01-01T00:00:00Z', keys });
    this.inventory = { keys: [...keys], cacheKeys: keys.map((k) => JSON.stringify(k)) };
  }

  /** Forget every cached part. */
  clear(): void {
    this.findings.clear();
    for (const m of Object.values(this.shared)) m.clear();
    this.signatures.clear();
  }

  /** The decision for `input`, as `PolicyEvaluator.evaluate` gives it, from cached parts where they hold. */
  evaluate(input: unknown): Decision {
    const ctx = prepareContext(input);
    const problems = validateItems(this.itemsToValidate(ctx.items));
    if (problems.length > 0) throw new PolicyError(problems);
    const cache = this.contextCache(ctx);
    const now = ctx.nowMs;

    const entries: Entry[] = [];
    const missing: Item[] = [];
    const visit = (kind: Item['kind'], index: number, key: string, value: unknown): void => {
      const e = cache[kind].get(key);
      if (e && (now === e.at || (e.lo < now && now < e.hi))) entries.push(e);
      else missing.push({ kind, index, key, value });
    };
    const { keys, findings, facts } = ctx.items;
    if (keys !== undefined) for (let i = 0; i < keys.length; i++) visit('keys', i, JSON.stringify(keys[i]), keys[i]);
    else if (this.inventory) {
      const inv = this.inventory;
      for (let i = 0; i < inv.keys.length; i++) visit('keys', i, inv.cacheKeys[i] ?? '', inv.keys[i]);
    }
    for (let i = 0; i < findings.length; i++) visit('findings', i, this.fieldsKey(findings[i] as Record<string, unknown>, this.info.findingFields), findings[i]);
    for (let i = 0; i < facts.length; i++) {
      const f = facts[i] as Record<string, unknown>;
      visit('facts', i, f.kind === 'key' ? JSON.stringify(f) : this.fieldsKey(f, this.info.factFields), f);
    }
    const files = ctx.repo.files;
    for (let i = 0; i < files.length; i++) visit('files', i, files[i] ?? '', files[i]);

    this.last.reused = entries.length;
    this.last.evaluated = 0;
    if (missing.length > 0) {
      // The same item twice is evaluated once.
      const distinct = [...new Map(missing.map((it) => [`${it.kind}\0${it.key}`, it])).values()];
      this.last.evaluated = distinct.length;
      for (const e of this.evaluateItems(distinct, ctx, cache)) entries.push(e);
    }
    return merge(entries);
  }

  private *itemsToValidate(items: PreparedContext['items']): Generator<readonly [ItemKind, number, unknown]> {
    if (items.keys) for (let i = 0; i < items.keys.length; i++) yield ['keys', i, items.keys[i]];
    for (let i = 0; i < items.findings.length; i++) yield ['findings', i, items.findings[i]];
    for (let i = 0; i < items.facts.length; i++) yield ['facts', i, items.facts[i]];
  }

  /** A cache key of the `fields` of `x`: strings length-prefixed, numbers marked, anything else as JSON; no two values share a key. */
  private fieldsKey(x: Record<string, unknown>, fields: readonly string[]): string {
    let k = '';
    for (const name of fields) {
      const v = x[name];
      k += typeof v === 'string' ? `${v.length}:${v}` : typeof v === 'number' ? `#${v};` : `${JSON.stringify(v) ?? '-'};`;
    }
    return k;
  }

  /** The caches for this input's context: the shared ones, and the findings' of its `context` value. */
  private contextCache(ctx: PreparedContext): ContextCache {
    const values = JSON.stringify(this.info.contextPaths.map((p) => pathValue(ctx, p) ?? null));
    let sig = this.signatures.get(values);
    if (sig === undefined) {
      const v = this.evaluator.evaluateEntrypoint({ now: ctx.now, nowMs: ctx.nowMs, repo: ctx.repo, event: ctx.event }, this.info.contextEntrypoint);
      if (!Array.isArray(v)) throw new KeywardenError(ErrorCode.POLICY_EVAL, 'The policy returned no context.', { fault: 'internal', hint: 'Rebuild the policy with `keywarden policy build`.' });
      sig = JSON.stringify(v);
      if (this.signatures.size >= 1024) this.signatures.delete(this.signatures.keys().next().value as string);
      this.signatures.set(values, sig);
    }
    let findings = this.findings.get(sig);
    if (!findings) {
      if (this.findings.size >= this.maxContexts) this.findings.delete(this.findings.keys().next().value as string);
      findings = new Map();
      this.findings.set(sig, findings);
    }
    return { ...this.shared, findings };
  }

  /** Evaluate `items` (distinct) in one call of the `partial` entrypoint and cache each one's part. */
  private evaluateItems(items: readonly Item[], ctx: PreparedContext, cache: ContextCache): Entry[] {
    const lists: Record<Item['kind'], Item[]> = { keys: [], findings: [], facts: [], files: [] };
    for (const it of items) lists[it.kind].push(it);
    const rotatedAt = new Map<Item, number>();
    const prepareAll = (kind: 'keys' | 'facts'): unknown[] =>
      lists[kind].map((it) => {
        const p = prepareItem(kind, it.value) as { rotatedAtMs?: unknown; kind?: unknown; key?: { rotatedAtMs?: unknown } };
        const r = kind === 'keys' ? p.rotatedAtMs : p.kind === 'key' ? p.key?.rotatedAtMs : undefined;
        if (typeof r === 'number') rotatedAt.set(it, r);
        return p;
      });
    const prepared = {
      ...ctx.rest,
      now: ctx.now,
      nowMs: ctx.nowMs,
      repo: { ...ctx.repo, files: lists.files.map((it) => it.value) },
      event: ctx.event,
      keys: prepareAll('keys'),
      findings: lists.findings.map((it) => it.value),
      facts: prepareAll('facts'),
    };
    const result = this.evaluator.evaluateEntrypoint(prepared, this.info.entrypoint) as { violations?: unknown; actions?: unknown } | undefined;
    if (!result || !Array.isArray(result.violations) || !Array.isArray(result.actions))
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'The policy returned no partial decision.', { fault: 'internal', hint: 'Rebuild the policy with `keywarden policy build`.' });

    const parts = new Map<Item, Part[]>();
    const attach = (pairs: unknown[], action: boolean): void => {
      for (const pair of pairs) {
        const [ref, x] = pair as [[string, number], Violation | DecisionAction];
        const [kind, i] = ref;
        // A key declared in config is judged as key -1 - j: its item is facts[j].
        const it = kind === 'keys' && i < 0 ? lists.facts[-1 - i] : lists[kind as Item['kind']]?.[i];
        if (!it) throw new KeywardenError(ErrorCode.POLICY_EVAL, `The partial decision names an item that was not evaluated (${kind}[${i}]).`, { fault: 'internal', hint: 'Rebuild the policy with `keywarden policy build`.' });
        let ps = parts.get(it);
        if (!ps) parts.set(it, (ps = []));
        const json = JSON.stringify(x);
        ps.push(Object.freeze({ x: deepFreeze(x), action, json, sort: decisionSortKey(x), id: `${action ? 'a' : 'v'}${json}` }));
      }
    };
    attach(result.violations, false);
    attach(result.actions, true);

    const out: Entry[] = [];
    for (const it of items) {
      const entry: Entry = { parts: parts.get(it) ?? [], ...this.validity(ctx.nowMs, rotatedAt.get(it)) };
      this.store(cache[it.kind], it.key, entry);
      out.push(entry);
    }
    return out;
  }

  /** Where around `now` a part computed at `now` stays the same: the nearest breakpoints below and above. */
  private validity(now: number, rotatedAtMs: number | undefined): { at: number; lo: number; hi: number } {
    let lo = Number.NEGATIVE_INFINITY;
    let hi = Number.POSITIVE_INFINITY;
    let on = false;
    const consider = (b: number): void => {
      if (b < now) lo = Math.max(lo, b);
      else if (b > now) hi = Math.min(hi, b);
      else on = true;
    };
    for (const e of this.expires) consider(e);
    const youngest = this.keyAges[0];
    if (rotatedAtMs !== undefined && youngest !== undefined) {
      for (const a of this.keyAges) consider(rotatedAtMs + a);
      // Past a max-age, a message says the age in whole days.
      if (now - rotatedAtMs > youngest) {
        const days = Math.floor((now - rotatedAtMs) / DAY_MS);
        consider(rotatedAtMs + days * DAY_MS);
        consider(rotatedAtMs + (days + 1) * DAY_MS);
      }
    }
    // Exactly on a breakpoint: valid at this instant only.
    return on ? { at: now, lo: now, hi: now } : { at: now, lo, hi };
  }

  private store(cache: Map<string, Entry>, key: string, entry: Entry): void {
    cache.delete(key);
    if (cache.size >= this.maxItems) {
      // Drop the oldest tenth (a Map iterates in insertion order).
      let drop = Math.ceil(this.maxItems / 10);
      for (const k of cache.keys()) {
        if (drop-- <= 0) break;
        cache.delete(k);
      }
    }
    cache.set(key, entry);
  }
}

/** The union of the parts, each violation and action once, in the order of a full evaluation. */
function merge(entries: readonly Entry[]): Decision {
  const seen = new Set<string>();
  const vs: Part[] = [];
  const as: Part[] = [];
  for (const e of entries) {
    for (const p of e.parts) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      (p.action ? as : vs).push(p);
    }
  }
  return { violations: sortParts(vs) as Violation[], actions: sortParts(as) as DecisionAction[] };
}

function sortParts(ps: Part[]): Array<Violation | DecisionAction> {
  return ps.sort((a, b) => (a.sort !== b.sort ? (a.sort < b.sort ? -1 : 1) : a.json < b.json ? -1 : a.json > b.json ? 1 : 0)).map((p) => p.x);
}

function pathValue(ctx: PreparedContext, path: string): unknown {
  let x: unknown = ctx;
  for (const part of path.split('.')) x = typeof x === 'object' && x !== null ? (x as Record<string, unknown>)[part] : undefined;
  return x;
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}
