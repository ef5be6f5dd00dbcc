/**
 * The small languages inside the policy: durations (`90d`), comparisons (`>= 14d`), globs and
 * dates. Pure functions; each returns `undefined` or a reason instead of throwing.
 */
import type { CompareOp, Comparison } from './ast.js';

const DURATION = /^(0|[1-9][0-9]{0,5})([hdwy])$/;
const COMPARISON = /^\s*(>=|<=|==|>|<)\s*((?:0|[1-9][0-9]{0,5})[hdwy])\s*$/;
const UNIT_DAYS: Record<string, number> = { h: 1 / 24, d: 1, w: 7, y: 365 };

/** Days in a duration such as `90d`, `12w`, `1y`, `36h`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_DAYS[m[2] ?? ''] ?? Number.NaN);
}

export function parseComparison(text: string): Comparison | undefined {
  const m = COMPARISON.exec(text);
  if (!m) return undefined;
  const days = parseDuration(m[2] ?? '');
  if (days === undefined) return undefined;
  return { op: m[1] as CompareOp, days, text: `${m[1]} ${m[2]}` };
}

/** The interval [min, max] a set of comparisons allows; `empty` when none can hold together. */
export function boundInterval(cs: readonly Comparison[]): { min: number; max: number; minOpen: boolean; maxOpen: boolean; empty: boolean } {
  let min = -Infinity;
  let max = Infinity;
  let minOpen = false;
  let maxOpen = false;
  for (const c of cs) {
    if ((c.op === '>=' || c.op === '==') && (c.days > min || (c.days === min && minOpen))) [min, minOpen] = [c.days, false];
    if (c.op === '>' && c.days >= min) [min, minOpen] = [c.days, true];
    if ((c.op === '<=' || c.op === '==') && (c.days < max || (c.days === max && maxOpen))) [max, maxOpen] = [c.days, false];
    if (c.op === '<' && c.days <= max) [max, maxOpen] = [c.days, true];
  }
  const empty = min > max || (min === max && (minOpen || maxOpen));
  return { min, max, minOpen, maxOpen, empty };
}

/** Why a glob is malformed, or undefined. Matching is OPA's `glob.match` with no delimiters. */
export function globProblem(glob: string): string | undefined {
  let brackets = 0;
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\') {
      i++;
      if (i >= glob.length) return 'ends with a lone backslash';
      continue;
    }
    if (c === '[') {
      if (brackets > 0) return 'has a "[" inside a character class';
      brackets++;
    } else if (c === ']') {
      if (brackets === 0) return 'has a "]" without a matching "["';
      brackets--;
    } else if (c === '{' && brackets === 0) {
      braces++;
      if (braces > 8) return 'nests "{" alternatives too deeply';
    } else if (c === '}' && brackets === 0) {
      if (braces === 0) return 'has a "}" without a matching "{"';
      braces--;
    }
  }
  if (brackets > 0) return 'has a "[" without a matching "]"';
  if (braces > 0) return 'has a "{" without a matching "}"';
  return undefined;
}

/**
 * What a glob needs to be matched. With no delimiters `*` and `**` match any run of characters,
 * so most globs are a plain string test: equal, prefix, suffix, infix, prefix and suffix, or any
 * string. The rest (`?`, classes, alternatives, escapes, several inner parts) need the glob engine.
 */
export type GlobShape =
  | { kind: 'literal'; text: string }
  | { kind: 'any' }
  | { kind: 'prefix'; head: string }
  | { kind: 'suffix'; tail: string }
  | { kind: 'infix'; part: string }
  | { kind: 'affix'; head: string; tail: string }
  | { kind: 'engine' };

export function globShape(glob: string): GlobShape {
  if (!/[*?[\]{}\\]/.test(glob)) return { kind: 'literal', text: glob };
  if (/[?[\]{}\\!,]/.test(glob)) return { kind: 'engine' };
  const parts = glob.split(/\*+/);
  const head = parts[0] ?? '';
  const tail = parts[parts.length - 1] ?? '';
  if (parts.length === 2) {
    if (head === '' && tail === '') return { kind: 'any' };
    if (tail === '') return { kind: 'prefix', head };
    if (head === '') return { kind: 'suffix', tail };
    return { kind: 'affix', head, tail };
  }
  if (parts.length === 3 && head === '' && tail === '') return { kind: 'infix', part: parts[1] ?? '' };
  return { kind: 'engine' };
}

/**
 * OPA's wasm keeps 100 compiled globs, and an evaluation that uses more never returns (OPA 1.22.3,
 * the cache cap of open-policy-agent/opa#6846). Globs with `globShape` `engine` count against it.
 */
export const MAX_ENGINE_GLOBS = 100;

/** Epoch ms of the end of a `YYYY-MM-DD` day in UTC (exclusive), or undefined for a bad date. */
export function parseDateEnd(text: string): number | undefined {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = Date.UTC(y, mo - 1, d);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return t + 86_400_000;
}
