/**
 * How far a regex can read around the place where a match attempt starts, derived from its
 * source: `ahead` is the most characters it can consume or look ahead at (its longest match
 * plus lookaheads), `behind` the most it can look back (lookbehinds, `\b`). Infinity when a
 * quantifier is unbounded (`*`, `+`, `{n,}`) over something that consumes.
 *
 * The engine splits a very long window into pieces that overlap by this much, which gives the
 * same matches as one pass over the whole window while bounding the text each regex and each
 * `verify` hook sees. A source it cannot read (another dialect) counts as unbounded.
 *
 * @example patternReach(/(?<![a-z])(ghp_[A-Za-z0-9]{36})(?![a-z])/.source) // { ahead: 41, behind: 1 }
 */
export interface PatternReach {
  ahead: number;
  behind: number;
}

interface Node {
  /** Longest text it consumes. */
  len: number;
  /** Furthest it reads past its start (consumed text plus lookaheads). */
  ahead: number;
  /** Furthest it reads before its start. */
  behind: number;
}

const UNBOUNDED: PatternReach = { ahead: Number.POSITIVE_INFINITY, behind: Number.POSITIVE_INFINITY };

/** Reach of a JavaScript regex source (the syntax RE2 shares with it, for custom patterns). */
export function patternReach(source: string): PatternReach {
  try {
    const p = new Parser(source);
    const n = p.alternation();
    if (p.i !== source.length) return UNBOUNDED;
    return { ahead: n.ahead, behind: n.behind };
  } catch {
    return UNBOUNDED;
  }
}

class Parser {
  i = 0;
  private readonly groups = new Map<string, number>();
  private readonly numbered: number[] = [];
  constructor(private readonly s: string) {}

  alternation(): Node {
    let out = this.sequence();
    while (this.s[this.i] === '|') {
      this.i++;
      const b = this.sequence();
      out = { len: Math.max(out.len, b.len), ahead: Math.max(out.ahead, b.ahead), behind: Math.max(out.behind, b.behind) };
    }
    return out;
  }

  private sequence(): Node {
    let len = 0;
    let ahead = 0;
    let behind = 0;
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') {
      const a = this.quantified();
      ahead = Math.max(ahead, len + a.ahead);
      // A lookbehind after consumed text reaches back less far; counting it in full is safe.
      behind = Math.max(behind, a.behind);
      len += a.len;
    }
    return { len, ahead: Math.max(ahead, len), behind };
  }

  private quantified(): Node {
    const atom = this.atom();
    const q = this.quantifier();
    if (!q) return atom;
    if (this.s[this.i] === '?') this.i++; // lazy: same reach
    const [min, max] = q;
    if (min > max) throw new Error('bad quantifier');
    if (max === 0) return { len: 0, ahead: 0, behind: 0 };
    const len = atom.len === 0 ? 0 : max * atom.len;
    const ahead = atom.len === 0 ? atom.ahead : (max - 1) * atom.len + atom.ahead;
    return { len, ahead: Number.isNaN(ahead) ? Number.POSITIVE_INFINITY : ahead, behind: atom.behind };
  }

  private quantifier(): [number, number] | undefined {
    const c = this.s[this.i];
    const simple: Record<string, [number, number]> = { '*': [0, Number.POSITIVE_INFINITY], '+': [1, Number.POSITIVE_INFINITY], '?': [0, 1] };
    if (c !== undefined && c in simple) {
      this.i++;
      return simple[c];
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.s.slice(this.i, this.i + 24));
      if (!m) return undefined; // a literal brace
      this.i += m[0].length;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      return [min, max];
    }
    return undefined;
  }

  private atom(): Node {
    const c = this.s[this.i]!;
    if (c === '(') return this.group();
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    if (c === '^' || c === '$') {
      this.i++;
      return { len: 0, ahead: c === '$' ? 1 : 0, behind: c === '^' ? 1 : 0 };
    }
    if (c === '*' || c === '+' || c === '?') throw new Error('nothing to repeat');
    this.i++;
    return char();
  }

  private group(): Node {
    this.i++; // (
    let kind: 'capture' | 'plain' | 'ahead' | 'behind' = 'capture';
    let name: string | undefined;
    if (this.s[this.i] === '?') {
      const rest = this.s.slice(this.i, this.i + 4);
      if (rest.startsWith('?:')) {
        kind = 'plain';
        this.i += 2;
      } else if (rest.startsWith('?=') || rest.startsWith('?!')) {
        kind = 'ahead';
        this.i += 2;
      } else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
        kind = 'behind';
        this.i += 3;
      } else if (rest.startsWith('?<') || rest.startsWith('?P<')) {
        this.i += rest.startsWith('?P<') ? 3 : 2;
        const end = this.s.indexOf('>', this.i);
        if (end < 0) throw new Error('bad group name');
        name = this.s.slice(this.i, end);
        this.i = end + 1;
      } else throw new Error('unknown group');
    }
    const index = kind === 'capture' ? this.numbered.push(0) - 1 : -1;
    const body = this.alternation();
    if (this.s[this.i] !== ')') throw new Error('unclosed group');
    this.i++;
    if (index >= 0) this.numbered[index] = body.len;
    if (name !== undefined) this.groups.set(name, body.len);
    if (kind === 'ahead') return { len: 0, ahead: body.ahead, behind: body.behind };
    // Matched right to left from here: it reads back as far as it consumes (plus its own lookarounds).
    if (kind === 'behind') return { len: 0, ahead: 0, behind: body.ahead + body.behind };
    return body;
  }

  private charClass(): Node {
    this.i++; // [
    if (this.s[this.i] === '^') this.i++;
    if (this.s[this.i] === ']') this.i++; // a literal ] first
    while (this.i < this.s.length && this.s[this.i] !== ']') this.i += this.s[this.i] === '\\' ? 2 : 1;
    if (this.s[this.i] !== ']') throw new Error('unclosed class');
    this.i++;
    return char();
  }

  private escape(): Node {
    const c = this.s[this.i + 1];
    if (c === undefined) throw new Error('trailing backslash');
    this.i += 2;
    if (c === 'b' || c === 'B') return { len: 0, ahead: 1, behind: 1 };
    if (c === 'k') {
      const m = /^<([^>]+)>/.exec(this.s.slice(this.i));
      if (!m) throw new Error('bad backreference');
      this.i += m[0].length;
      return fixed(this.ref(this.groups.get(m[1]!)));
    }
    if (c >= '1' && c <= '9') {
      const m = /^\d*/.exec(this.s.slice(this.i))!;
      this.i += m[0].length;
      return fixed(this.ref(this.numbered[Number(c + m[0]) - 1]));
    }
    if (c === 'x') this.i += 2;
    else if (c === 'u') this.i += this.s[this.i] === '{' ? this.s.indexOf('}', this.i) - this.i + 1 : 4;
    else if (c === 'c') this.i += 1;
    else if (c === 'p' || c === 'P') this.i = this.s.indexOf('}', this.i) + 1;
    // A unicode escape may stand for a surrogate pair.
    return c === 'u' || c === 'p' || c === 'P' ? fixed(2) : char();
  }

  /** A backreference to a group not yet closed, or one we do not know, may be anything. */
  private ref(len: number | undefined): number {
    return len === undefined ? Number.POSITIVE_INFINITY : len;
  }
}

function char(): Node {
  return { len: 1, ahead: 1, behind: 0 };
}

function fixed(n: number): Node {
  return { len: n, ahead: n, behind: 0 };
}
