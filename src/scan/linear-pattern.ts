/**
 * Custom detector patterns (from a policy or `--rule`) compiled by a linear-time engine: RE2's
 * semantics through the pure-JS port `re2js`, so no pattern and no input can make a scan
 * backtrack (`(a+)+$` runs in time proportional to the text).
 *
 * Patterns are written in JavaScript syntax; `translatePattern` rewrites what RE2 spells
 * differently (`\uXXXX`, `\cX`, `[^]`, `[\b]`, JavaScript's `.`, `\s` and identity escapes) and
 * refuses what no linear-time engine can do (backreferences, lookahead, lookbehind) with a typed
 * `KW_DETECTOR_INVALID` error that names the detector.
 *
 * Bounded search: RE2 is linear per match, but finding every match of a pattern whose matches
 * are short while its alternatives look far ahead (`a(.*b)?`) costs the lookahead again for each
 * match. Each search therefore sees at most `SPAN` characters past where it starts (like the
 * engine's windows, the end of that view counts as the end of the text for `$` and `\b`); any
 * match up to `SPAN / 2` characters long is found wherever it starts. Secrets are short.
 */
import { createRequire } from 'node:module';
import type { Matcher, RE2JS as RE2JSClass } from 're2js';
import { ErrorCode, KeywardenError } from '../errors.js';
import type { LinearPattern } from './types.js';

// Loaded on the first custom pattern: every scan thread imports this module, few scans have one.
let re2: typeof RE2JSClass | undefined;
export const re2js = (): typeof RE2JSClass => (re2 ??= (createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JSClass }).RE2JS);

/** Characters one search may look at past its start. */
const SPAN = 4096;
/** Matches up to this length are found wherever they start (views overlap by this much). */
export const MAX_LINEAR_MATCH = SPAN / 2;
/** After this much work per character of a text, searches shrink to `SMALL_SPAN` (pathological patterns only). */
const BUDGET_PER_CHAR = 16;
const SMALL_SPAN = 128;

export interface LinearPatternOptions {
  /** The detector the pattern belongs to, named in errors. */
  detector?: string;
}

/** Why a pattern was refused; `details.reason` of the error. */
export type LinearPatternProblem = 'backreference' | 'lookaround' | 'flag' | 'syntax';

/**
 * Compiles a JavaScript-syntax pattern for the linear-time engine.
 * Flags: `i`, `m`, `s`, `u` as in JavaScript; `g` and `d` are accepted and have no effect (the
 * pattern always behaves like a global RegExp); `y` and `v` are refused.
 *
 * @example
 * const p = createLinearPattern('itk_(?<secret>[a-z0-9]{32})', 'i', { detector: 'internal-token' });
 * p.lastIndex = 0;
 * const m = p.exec(text); // m?.groups?.secret, m?.index
 */
export function createLinearPattern(source: string, flags = '', options: LinearPatternOptions = {}): LinearPattern {
  const name = options.detector;
  const fail = (reason: LinearPatternProblem, what: string, hint: string, offset?: number): never => {
    throw new KeywardenError(ErrorCode.DETECTOR_INVALID, `${name ? `Custom detector "${name}": its pattern` : 'The pattern'} ${what}.`, {
      fault: 'config',
      hint,
      details: { reason, ...(name ? { detector: name } : {}), ...(offset === undefined ? {} : { offset }) },
    });
  };
  let re2Flags = 0;
  const seen = new Set<string>();
  for (const f of flags) {
    if (seen.has(f)) fail('flag', `repeats the flag "${f}"`, 'Write each flag once.');
    seen.add(f);
    const RE2JS = re2js();
    if (f === 'i') re2Flags |= RE2JS.CASE_INSENSITIVE;
    else if (f === 'm') re2Flags |= RE2JS.MULTILINE;
    else if (f === 's') re2Flags |= RE2JS.DOTALL;
    else if (f !== 'u' && f !== 'g' && f !== 'd') fail('flag', `uses the flag "${f}", which custom detectors do not support`, 'Use only the flags i, m, s and u.');
  }
  const translated = translatePattern(source, { unicode: seen.has('u'), dotAll: seen.has('s') });
  if ('problem' in translated) return fail(translated.problem, translated.what, translated.hint, translated.offset);
  let compiled: RE2JSClass;
  try {
    compiled = re2js().compile(translated.source, re2Flags);
  } catch (e) {
    // re2js messages quote the pattern (configuration, never a secret) and RE2's view of it.
    const detail = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '').slice(0, 200) : 'invalid';
    return fail('syntax', `is not a valid regular expression for the linear-time engine (${detail})`, 'Check brackets, escapes and repeat counts (at most {1000}); patterns use JavaScript syntax without backreferences or lookaround.');
  }
  return new Re2Pattern(source, [...seen].filter((f) => f !== 'g' && f !== 'd').join('') + 'g', compiled);
}

class Re2Pattern implements LinearPattern {
  lastIndex = 0;
  private readonly groupCount: number;
  private readonly names: readonly (readonly [string, number])[];
  private budgetText: string | undefined;
  private budget = 0;

  constructor(
    readonly source: string,
    readonly flags: string,
    private readonly re: RE2JSClass,
  ) {
    this.groupCount = re.groupCount();
    this.names = Object.entries(re.namedGroups());
  }

  exec(text: string): RegExpExecArray | null {
    const n = text.length;
    let from = this.lastIndex;
    if (from > n || from < 0 || !Number.isInteger(from)) {
      this.lastIndex = 0;
      return null;
    }
    // The work allowance is per text, restarted when a caller starts over (lastIndex 0).
    if (from === 0 || this.budgetText !== text) {
      this.budgetText = text;
      this.budget = BUDGET_PER_CHAR * n + 4 * SPAN;
    }
    for (;;) {
      const span = this.budget > 0 ? SPAN : SMALL_SPAN;
      const cut = Math.min(n, from + span);
      this.budget -= cut - from;
      let m: Matcher = this.re.matcher(cut === n ? text : text.slice(0, cut));
      if (!m.find(from)) {
        if (cut === n) return this.miss();
        // Views overlap by half a span, so a match of up to half a span is seen whole.
        from = cut - span / 2;
        continue;
      }
      if (m.end() === cut && cut < n) {
        // The match reaches the end of the view, which is not the end of the text: it may be
        // longer, or exist only because `$` or `\b` took the cut for the end.
        if (m.start() >= cut - span / 2) {
          from = cut - span / 2; // a short one: look again with room behind it
          continue;
        }
        if (this.budget > 0) {
          // A long one: look at the rest of the text once.
          this.budget -= n - m.start();
          const start = m.start();
          m = this.re.matcher(text);
          if (!m.find(start)) return this.miss();
        }
        // Out of allowance (a pathological pattern): the match stops at the view.
      }
      this.lastIndex = m.end();
      return this.result(m, text);
    }
  }

  private miss(): null {
    this.lastIndex = 0;
    return null;
  }

  private result(m: Matcher, text: string): RegExpExecArray {
    const values: (string | undefined)[] = [m.group() ?? ''];
    for (let g = 1; g <= this.groupCount; g++) values.push(m.group(g) ?? undefined);
    const out = values as unknown as RegExpExecArray;
    out.index = m.start();
    out.input = text;
    // As in JavaScript: `groups` (null prototype) only when the pattern names groups; an
    // unmatched group is undefined.
    const groups: Record<string, string | undefined> | undefined = this.names.length > 0 ? (Object.create(null) as Record<string, string | undefined>) : undefined;
    if (groups) for (const [k, i] of this.names) groups[k] = values[i];
    (out as { groups?: Record<string, string | undefined> | undefined }).groups = groups;
    return out;
  }
}

export type TranslateResult = { source: string } | { problem: LinearPatternProblem; what: string; hint: string; offset: number };

const LOOKAROUND_HINT = 'Lookahead and lookbehind need a backtracking engine; match the context as part of the pattern and capture the secret in `(?<secret>…)`.';
const BACKREF_HINT = 'Backreferences need a backtracking engine; write the repeated part out.';
// JavaScript's \s (ECMAScript WhiteSpace and LineTerminator), for RE2 whose \s is [\t\n\f\r ].
const JS_SPACE = '\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';
const hex = (code: number): string => `\\x{${code.toString(16).toUpperCase()}}`;

/**
 * JavaScript pattern syntax → RE2 syntax with the same meaning, or the reason it has none.
 * Pure; a single left-to-right pass.
 */
export function translatePattern(source: string, options: { unicode?: boolean; dotAll?: boolean } = {}): TranslateResult {
  let out = '';
  let inClass = false;
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const esc = source[i + 1];
      if (esc === undefined) return { problem: 'syntax', what: 'ends with a lone backslash', hint: 'Escape a literal backslash as \\\\.', offset: i };
      const at = i;
      i++;
      if (esc >= '1' && esc <= '9') {
        if (inClass) return { problem: 'syntax', what: 'uses an octal escape inside a character class', hint: 'Write the character as \\xNN.', offset: at };
        return { problem: 'backreference', what: `uses a backreference (\\${esc}), which the linear-time engine does not support`, hint: BACKREF_HINT, offset: at };
      }
      if (esc === 'k' && source[i + 1] === '<') return { problem: 'backreference', what: 'uses a named backreference (\\k<…>), which the linear-time engine does not support', hint: BACKREF_HINT, offset: at };
      switch (esc) {
        case 'd':
        case 'D':
        case 'w':
        case 'W':
        case 'S':
        case 'n':
        case 'r':
        case 't':
        case 'f':
          out += `\\${esc}`;
          continue;
        case 'B':
          out += inClass ? 'B' : '\\B';
          continue;
        case 'b':
          out += inClass ? '\\x08' : '\\b';
          continue;
        case 'v':
          out += '\\x0B';
          continue;
        case 's':
          out += inClass ? JS_SPACE : `[${JS_SPACE}]`;
          continue;
        case '0':
          if (/[0-9]/.test(source[i + 1] ?? '')) return { problem: 'syntax', what: 'uses a legacy octal escape', hint: 'Write the character as \\xNN.', offset: at };
          out += '\\x00';
          continue;
        case 'x': {
          const h = /^[0-9A-Fa-f]{2}/.exec(source.slice(i + 1, i + 3));
          if (h) {
            out += `\\x${h[0]}`;
            i += 2;
          } else out += 'x'; // JavaScript: an identity escape
          continue;
        }
        case 'u': {
          const braced = options.unicode ? /^\{([0-9A-Fa-f]{1,6})\}/.exec(source.slice(i + 1, i + 9)) : null;
          if (braced) {
            out += hex(parseInt(braced[1]!, 16));
            i += braced[0].length;
            continue;
          }
          const h = /^[0-9A-Fa-f]{4}/.exec(source.slice(i + 1, i + 5));
          if (h) {
            out += hex(parseInt(h[0], 16));
            i += 4;
          } else out += 'u';
          continue;
        }
        case 'c': {
          const letter = source[i + 1];
          if (letter && /[A-Za-z]/.test(letter)) {
            out += hex(letter.charCodeAt(0) % 32);
            i++;
          } else out += '\\\\c';
          continue;
        }
        case 'p':
        case 'P':
          if (options.unicode) {
            out += `\\${esc}`;
            continue;
          }
          out += esc;
          continue;
        default:
          // Identity escapes: `\/` is `/`, `\A` is `A` (RE2 would read `\A`, `\z`, `\Q` as operators).
          out += /[!-/:-@[-`{-~]/.test(esc) ? `\\${esc}` : esc;
          continue;
      }
    }
    if (inClass) {
      // JavaScript reads `[` inside a class as a literal; RE2 would see the start of `[:alpha:]`.
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      continue;
    }
    if (c === '[') {
      if (source[i + 1] === ']') {
        out += '[^\\x{0}-\\x{10FFFF}]'; // `[]` matches nothing
        i++;
        continue;
      }
      if (source[i + 1] === '^' && source[i + 2] === ']') {
        out += '[\\x{0}-\\x{10FFFF}]'; // `[^]` matches anything
        i += 2;
        continue;
      }
      inClass = true;
      out += '[';
      if (source[i + 1] === '^') {
        out += '^';
        i++;
      }
      continue;
    }
    if (c === '(' && source[i + 1] === '?') {
      const next = source.slice(i + 2, i + 4);
      if (next.startsWith('=') || next.startsWith('!') || next === '<=' || next === '<!') {
        const kind = next.startsWith('=') ? 'a lookahead (?=…)' : next.startsWith('!') ? 'a negative lookahead (?!…)' : next === '<=' ? 'a lookbehind (?<=…)' : 'a negative lookbehind (?<!…)';
        return { problem: 'lookaround', what: `uses ${kind}, which the linear-time engine does not support`, hint: LOOKAROUND_HINT, offset: i };
      }
      out += c;
      continue;
    }
    if (c === '.' && !options.dotAll) {
      out += JS_DOT;
      continue;
    }
    out += c;
  }
  return { source: out };
}
