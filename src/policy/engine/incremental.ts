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
 * - an item is known by its value: a private copy of every valid item seen is kept, and an item
 *   deep-equal to one (as JSON) is that item: it needs no validation again, and its cached part
 *   is its part. Anything else is validated (every problem reported, as a full evaluation does)
 *   before it is cached or evaluated; findings are cached per
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
  /**
   * Distinct items remembered per kind (keys, facts, files; findings per context) before the
   * oldest tenth is dropped. A remembered item costs about its JSON size twice (copy and parts).
   * Default 50,000.
   */
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

/**
 * What is known of one distinct item: a private copy of it (an item deep-equal to it needs no
 * validation: it was valid), and its part of the decision, if computed.
 */
interface Slot {
  readonly raw: unknown;
  entry: Entry | undefined;
}

/** Slots by a short primary key (a finding's fingerprint, a key's id, a fact's place); items sharing one are told apart by deep equality. */
class SlotCache {
  private readonly map = new Map<string, Slot[]>();
  private size = 0;
  constructor(private readonly max: number) {}

  /** The slots of the last decision's items of this kind, in order, and of this decision's. */
  private previous: Array<Slot | undefined> = [];
  private current: Array<Slot | undefined> = [];
  private shift = 0;

  /** Start a decision's lookups. */
  begin(): void {
    this.current = [];
    this.shift = 0;
  }

  /** End them: this decision's slots are where the next one looks first. */
  end(): void {
    this.previous = this.current;
  }

  /**
   * The slot of the decision's `index`-th item. Lists change little from one decision to the next,
   * so the item at the same place in the last one (allowing for one added or removed before it) is
   * tried before the primary key is computed and looked up.
   */
  find(index: number, item: unknown, primary: (x: unknown) => string): Slot | undefined {
    const base = index + this.shift;
    let s = this.previous[base];
    if (s === undefined || !sameJson(s.raw, item)) {
      s = this.previous[base + 1];
      if (s !== undefined && sameJson(s.raw, item)) this.shift++;
      else {
        s = this.previous[base - 1];
        if (s !== undefined && sameJson(s.raw, item)) this.shift--;
        else s = this.get(primary(item), item);
      }
    }
    if (s) this.current[index] = s;
    return s;
  }

  /** Record the slot made for the decision's `index`-th item after it was validated. */
  place(index: number, slot: Slot): void {
    this.current[index] = slot;
  }

  get(primary: string, item: unknown): Slot | undefined {
    const slots = this.map.get(primary);
    if (slots) for (const s of slots) if (sameJson(s.raw, item)) return s;
    return undefined;
  }

  /** A new slot for a validated item (copied: the caller may change its object later). */
  add(primary: string, item: unknown): Slot {
    const slot: Slot = { raw: typeof item === 'object' && item !== null ? structuredClone(item) : item, entry: undefined };
    let slots = this.map.get(primary);
    if (!slots) {
      if (this.size >= this.max) this.evict();
      this.map.set(primary, (slots = []));
    }
    slots.push(slot);
    this.size++;
    return slot;
  }

  clear(): void {
    this.map.clear();
    this.size = 0;
  }

  /** Drop the oldest tenth (a Map iterates in insertion order). */
  private evict(): void {
    let drop = Math.ceil(this.max / 10);
    for (const [k, slots] of this.map) {
      if (drop <= 0) break;
      drop -= slots.length;
      this.size -= slots.length;
      this.map.delete(k);
    }
  }
}

/** An item of this decision whose part is not cached (or no longer holds). */
interface Missing {
  kind: ItemKind | 'files';
  slot: Slot;
}

/** The slots of the resident key inventory, and, while they all hold, their entries together. */
interface Inventory {
  slots: readonly Slot[];
  all: { entries: readonly Entry[]; lo: number; hi: number } | undefined;
}

export class IncrementalEvaluator {
  private readonly keys: SlotCache;
  private readonly facts: SlotCache;
  private readonly files: SlotCache;
  /** Findings' slots by context (the `context` entrypoint's value); keys', facts' and files' parts are the same in every context. */
  private readonly findings = new Map<string, SlotCache>();
  /** The `context` entrypoint's value (as JSON) by the values of `contextPaths`. */
  private readonly signatures = new Map<string, string>();
  private inventory: Inventory | undefined;
  private readonly maxItems: number;
  private readonly maxContexts: number;
  private readonly expires: readonly number[];
  private readonly keyAges: readonly number[];
  private readonly contextPaths: ReadonlyArray<readonly string[]>;
  /** Items of the last decision: evaluated in wasm, and taken from the cache. */
  readonly last = { evaluated: 0, reused: 0 };
  /** The last decision, kept sorted and updated by the entries that came and went since. */
  private readonly merged = new MergedParts();

  constructor(
    private readonly evaluator: PolicyEvaluator,
    private readonly info: PartialDecisionInfo,
    options: IncrementalOptions = {},
  ) {
    this.maxItems = options.maxItems ?? 50_000;
    this.maxContexts = options.maxContexts ?? 64;
    this.expires = [...info.expiresMs].sort((a, b) => a - b);
    this.keyAges = [...info.keyAgesMs].sort((a, b) => a - b);
    this.contextPaths = info.contextPaths.map((p) => p.split('.'));
    this.keys = new SlotCache(this.maxItems);
    this.facts = new SlotCache(this.maxItems);
    this.files = new SlotCache(this.maxItems);
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
    const slots = keys.map((k) => {
      const primary = keyPrimary(k);
      return this.keys.get(primary, k) ?? this.keys.add(primary, k);
    });
    this.inventory = { slots, all: undefined };
  }

  /** The resident inventory as validated (private copies), or undefined. */
  inventoryKeys(): unknown[] | undefined {
    return this.inventory?.slots.map((s) => s.raw);
  }

  /** Forget every cached part. */
  clear(): void {
    for (const c of [this.keys, this.facts, this.files]) c.clear();
    this.findings.clear();
    this.signatures.clear();
    if (this.inventory) this.inventory = { slots: this.inventory.slots.map((s) => this.keys.add(keyPrimary(s.raw), s.raw)), all: undefined };
  }

  /** The decision for `input`, as `PolicyEvaluator.evaluate` gives it, from cached parts where they hold. */
  evaluate(input: unknown): Decision {
    const ctx = prepareContext(input);
    const now = ctx.nowMs;
    const findingSlots = this.findingCache(ctx);
    const entries: Entry[] = [];
    const missing: Missing[] = [];
    const unknown: Array<{ kind: ItemKind | 'files'; cache: SlotCache; index: number; primary: (x: unknown) => string; value: unknown }> = [];
    let reused = 0;
    const holds = (e: Entry | undefined): e is Entry => e !== undefined && (now === e.at || (e.lo < now && now < e.hi));
    /** Look an item up; unknown items are validated (all together, below) before they get a slot. */
    const visit = (kind: ItemKind | 'files', cache: SlotCache, index: number, primary: (x: unknown) => string, value: unknown): void => {
      const slot = cache.find(index, value, primary);
      if (!slot) unknown.push({ kind, cache, index, primary, value });
      else if (holds(slot.entry)) {
        entries.push(slot.entry);
        reused++;
      } else missing.push({ kind, slot });
    };

    const { keys, findings, facts } = ctx.items;
    const caches = [this.keys, findingSlots, this.facts, this.files];
    for (const c of caches) c.begin();
    if (keys !== undefined) for (let i = 0; i < keys.length; i++) visit('keys', this.keys, i, keyPrimary, keys[i]);
    else if (this.inventory) this.visitInventory(this.inventory, now, entries, missing, holds, () => reused++);
    for (let i = 0; i < findings.length; i++) visit('findings', findingSlots, i, findingPrimary, findings[i]);
    for (let i = 0; i < facts.length; i++) visit('facts', this.facts, i, factPrimary, facts[i]);
    const files = ctx.repo.files;
    for (let i = 0; i < files.length; i++) visit('files', this.files, i, filePrimary, files[i]);

    if (unknown.length > 0) {
      const problems = validateItems(unknown.flatMap((u) => (u.kind === 'files' ? [] : [[u.kind, u.index, u.value] as const])));
      if (problems.length > 0) throw new PolicyError(problems);
      // Valid: now they get slots (an item given twice gets one).
      for (const u of unknown) {
        const primary = u.primary(u.value);
        const slot = u.cache.get(primary, u.value) ?? u.cache.add(primary, u.value);
        u.cache.place(u.index, slot);
        missing.push({ kind: u.kind, slot });
      }
    }
    for (const c of caches) c.end();
    this.last.reused = reused;
    this.last.evaluated = 0;
    if (missing.length > 0) {
      const distinct = [...new Map(missing.map((m) => [m.slot, m])).values()];
      this.last.evaluated = distinct.length;
      for (const e of this.evaluateItems(distinct, ctx)) entries.push(e);
    }
    return this.merge(entries);
  }

  /**
   * The decision from the items' entries. Only entries with parts matter, and from one decision to
   * the next they are mostly the same ones: the last decision is updated by the parts of the
   * entries that came and went, and returned as new arrays.
   */
  private merge(entries: readonly Entry[]): Decision {
    const m = this.merged;
    const now = new Set<Entry>();
    for (const e of entries) if (e.parts.length > 0) now.add(e);
    for (const e of m.producing) if (!now.has(e)) for (const p of e.parts) m.remove(p);
    for (const e of now) if (!m.producing.has(e)) for (const p of e.parts) m.add(p);
    m.producing = now;
    return { violations: m.violations.map((p) => p.x as Violation), actions: m.actions.map((p) => p.x as DecisionAction) };
  }

  /** The inventory's entries: all at once while every one holds, else key by key. */
  private visitInventory(inv: Inventory, now: number, entries: Entry[], missing: Missing[], holds: (e: Entry | undefined) => e is Entry, reuse: () => void): void {
    if (inv.all && inv.all.lo < now && now < inv.all.hi) {
      for (const e of inv.all.entries) {
        entries.push(e);
        reuse();
      }
      return;
    }
    let complete = true;
    for (let i = 0; i < inv.slots.length; i++) {
      const slot = inv.slots[i] as Slot;
      if (holds(slot.entry)) {
        entries.push(slot.entry);
        reuse();
      } else {
        complete = false;
        missing.push({ kind: 'keys', slot });
      }
    }
    if (complete) {
      let lo = Number.NEGATIVE_INFINITY;
      let hi = Number.POSITIVE_INFINITY;
      const es = inv.slots.map((s) => s.entry as Entry);
      for (const e of es) {
        lo = Math.max(lo, e.lo);
        hi = Math.min(hi, e.hi);
      }
      inv.all = { entries: es, lo, hi };
    } else inv.all = undefined;
  }

  /** The findings' cache for this input's context (which leak rules its branch and visibility let apply). */
  private findingCache(ctx: PreparedContext): SlotCache {
    let values = '';
    for (const p of this.contextPaths) values += `${JSON.stringify(pathValue(ctx, p) ?? null)},`;
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
      findings = new SlotCache(this.maxItems);
      this.findings.set(sig, findings);
    }
    return findings;
  }

  /** Evaluate `items` (distinct) in one call of the `partial` entrypoint and give each slot its part. */
  private evaluateItems(items: readonly Missing[], ctx: PreparedContext): Entry[] {
    const lists: Record<Missing['kind'], Missing[]> = { keys: [], findings: [], facts: [], files: [] };
    for (const it of items) lists[it.kind].push(it);
    const rotatedAt = new Map<Missing, number>();
    const prepareAll = (kind: 'keys' | 'facts'): unknown[] =>
      lists[kind].map((it) => {
        const p = prepareItem(kind, it.slot.raw) as { rotatedAtMs?: unknown; kind?: unknown; key?: { rotatedAtMs?: unknown } };
        const r = kind === 'keys' ? p.rotatedAtMs : p.kind === 'key' ? p.key?.rotatedAtMs : undefined;
        if (typeof r === 'number') rotatedAt.set(it, r);
        return p;
      });
    const prepared = {
      ...ctx.rest,
      now: ctx.now,
      nowMs: ctx.nowMs,
      repo: { ...ctx.repo, files: lists.files.map((it) => it.slot.raw) },
      event: ctx.event,
      keys: prepareAll('keys'),
      findings: lists.findings.map((it) => it.slot.raw),
      facts: prepareAll('facts'),
    };
    const result = this.evaluator.evaluateEntrypoint(prepared, this.info.entrypoint) as { violations?: unknown; actions?: unknown } | undefined;
    if (!result || !Array.isArray(result.violations) || !Array.isArray(result.actions))
      throw new KeywardenError(ErrorCode.POLICY_EVAL, 'The policy returned no partial decision.', { fault: 'internal', hint: 'Rebuild the policy with `keywarden policy build`.' });

    const parts = new Map<Missing, Part[]>();
    const attach = (pairs: unknown[], action: boolean): void => {
      for (const pair of pairs) {
        const [ref, x] = pair as [[string, number], Violation | DecisionAction];
        const [kind, i] = ref;
        // A key declared in config is judged as key -1 - j: its item is facts[j].
        const it = kind === 'keys' && i < 0 ? lists.facts[-1 - i] : lists[kind as Missing['kind']]?.[i];
        if (!it) throw new KeywardenError(ErrorCode.POLICY_EVAL, `The partial decision names an item that was not evaluated (${kind}[${i}]).`, { fault: 'internal', hint: 'Rebuild the policy with `keywarden policy build`.' });
        let ps = parts.get(it);
        if (!ps) parts.set(it, (ps = []));
        const json = JSON.stringify(x);
        ps.push(Object.freeze({ x: deepFreeze(x), action, json, sort: decisionSortKey(x), id: `${action ? 'a' : 'v'}${json}` }));
      }
    };
    attach(result.violations, false);
    attach(result.actions, true);

    return items.map((it) => (it.slot.entry = { parts: parts.get(it) ?? [], ...this.validity(ctx.nowMs, rotatedAt.get(it)) }));
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

}

/** Order of a full evaluation: by `decisionSortKey`, then by JSON text. */
const compareParts = (a: Part, b: Part): number => (a.sort !== b.sort ? (a.sort < b.sort ? -1 : 1) : a.json < b.json ? -1 : a.json > b.json ? 1 : 0);

/**
 * The union of the parts of the producing entries, each violation and action once (counted, since
 * two items may produce the same one), kept in the order of a full evaluation.
 */
class MergedParts {
  producing = new Set<Entry>();
  readonly violations: Part[] = [];
  readonly actions: Part[] = [];
  private readonly counts = new Map<string, number>();

  add(p: Part): void {
    const n = this.counts.get(p.id) ?? 0;
    this.counts.set(p.id, n + 1);
    if (n > 0) return;
    const list = p.action ? this.actions : this.violations;
    list.splice(this.position(list, p), 0, p);
  }

  remove(p: Part): void {
    const n = this.counts.get(p.id) ?? 0;
    if (n > 1) {
      this.counts.set(p.id, n - 1);
      return;
    }
    this.counts.delete(p.id);
    const list = p.action ? this.actions : this.violations;
    const i = this.position(list, p);
    // The part in the list may be another object with the same id (from another item): compare ids.
    if (list[i]?.id === p.id) list.splice(i, 1);
  }

  /** Where `p` is or would go (binary search). */
  private position(list: readonly Part[], p: Part): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareParts(list[mid] as Part, p) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const str = (x: unknown): string => (typeof x === 'string' ? x : JSON.stringify(x) ?? '');

/** Primary cache keys: short, and equal for deep-equal items. */
function keyPrimary(k: unknown): string {
  const x = k as { id?: unknown; backend?: unknown } | null;
  return typeof x === 'object' && x !== null ? `${str(x.id)}\0${str(x.backend)}` : str(k);
}
function findingPrimary(f: unknown): string {
  const x = f as { fingerprint?: unknown; startLine?: unknown } | null;
  return typeof x === 'object' && x !== null ? `${str(x.fingerprint)}\0${str(x.startLine)}` : str(f);
}
const filePrimary = (f: unknown): string => str(f);
function factPrimary(f: unknown): string {
  const x = f as { file?: unknown; line?: unknown } | null;
  return typeof x === 'object' && x !== null ? `${str(x.file)}\0${str(x.line)}` : str(f);
}

/**
 * Deep equality of JSON values as `JSON.stringify` sees them (a property set to `undefined` is
 * absent). Objects that are not plain (a Date, a Map) are compared by their JSON text.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const pa = Object.getPrototypeOf(a) as unknown;
  const pb = Object.getPrototypeOf(b) as unknown;
  if ((pa !== Object.prototype && pa !== null) || (pb !== Object.prototype && pb !== null)) return JSON.stringify(a) === JSON.stringify(b);
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  // for-in: plain objects only (checked above), so no inherited keys; no key arrays allocated.
  let n = 0;
  for (const k in oa) {
    const v = oa[k];
    if (v === undefined) continue;
    n++;
    const w = ob[k];
    if (v !== w && (typeof v !== 'object' || !sameJson(v, w))) return false;
  }
  for (const k in ob) if (ob[k] !== undefined) n--;
  return n === 0;
}

function pathValue(ctx: PreparedContext, path: readonly string[]): unknown {
  let x: unknown = ctx;
  for (const part of path) x = typeof x === 'object' && x !== null ? (x as Record<string, unknown>)[part] : undefined;
  return x;
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}
