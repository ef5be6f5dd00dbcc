/**
 * A parser for HCL native syntax (Terraform's `.tf`): bodies, blocks, attributes and the full
 * expression grammar (templates with interpolations and directives, heredocs, tuples, objects,
 * traversals, splats, calls, operators, conditionals, `for` expressions), with the offset of every
 * node, so each fact can say where it is declared.
 *
 * Hostile input is expected. The parser is a single left-to-right pass with bounded lookahead
 * (linear time); nesting is capped (`maxDepth`) so it never overflows the stack; traversal chains
 * and operator chains are flat or depth-counted so evaluating the tree never recurses without
 * bound. Errors carry a stable code and an offset, never the text of the file.
 *
 * Why not `@cdktf/hcl2json` (the Go HCL parser compiled to WebAssembly): it is async only, loads a
 * 1.7 MB module at import, gives no positions and renders expressions back as source text (so
 * `jsonencode({...})` would need this parser anyway); on hostile input it hangs its promise after a
 * JavaScript stack overflow (10,000 nested braces) and kills the process with a fatal Go runtime
 * error (1,000,000 nested braces); a 5 MB file takes 10 s and 700 MB. Tests hold this parser to it
 * on the fixtures instead (`test/inspect/hcl-conformance.test.ts`).
 */

export interface Node {
  start: number;
  end: number;
}

export interface Body {
  attributes: Attribute[];
  blocks: Block[];
}

export interface Attribute extends Node {
  name: string;
  expr: Expr;
}

export interface Block extends Node {
  type: string;
  labels: string[];
  body: Body;
}

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'interp'; expr: Expr } | { kind: 'directive'; start: number };

export type TraversalStep = { kind: 'attr'; name: string } | { kind: 'index'; key: Expr } | { kind: 'splat' };

export type Expr = Node &
  (
    | { kind: 'literal'; value: string | number | boolean | null }
    | { kind: 'template'; parts: TemplatePart[]; heredoc: boolean }
    | { kind: 'tuple'; items: Expr[] }
    | { kind: 'object'; items: ObjectItem[] }
    /** A root name (`var`, `local`, `data`, `aws_kms_key`, …) and the steps after it. */
    | { kind: 'traversal'; root: string; steps: TraversalStep[] }
    /** Steps applied to a non-name expression (`(x).a`, `f()[0]`). */
    | { kind: 'postfix'; target: Expr; steps: TraversalStep[] }
    | { kind: 'call'; name: string; args: Expr[]; expandFinal: boolean }
    | { kind: 'unary'; op: '-' | '!'; operand: Expr }
    | { kind: 'binary'; op: string; left: Expr; right: Expr }
    | { kind: 'conditional'; cond: Expr; then: Expr; else: Expr }
    | { kind: 'for' }
    | { kind: 'paren'; expr: Expr }
  );

export interface ObjectItem {
  /** A bare identifier or a literal string key; undefined when the key is an expression. */
  keyName: string | undefined;
  key: Expr;
  value: Expr;
}

export type HclErrorCode = 'hcl-syntax' | 'hcl-too-deep';

export class HclSyntaxError extends Error {
  override readonly name = 'HclSyntaxError';
  constructor(
    readonly code: HclErrorCode,
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface ParseHclOptions {
  /** Deepest nesting of blocks and expressions. Default 256. */
  maxDepth?: number;
}

export interface ParseHclResult {
  body: Body | undefined;
  error: HclSyntaxError | undefined;
  /** Attributes set twice in one body (a Terraform error), by the second one. */
  duplicates: Attribute[];
}

/**
 * Parse HCL native syntax. Never throws: a syntax error is returned with its offset.
 *
 * @example
 * const { body, error } = parseHcl('resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n}\n');
 * body?.blocks[0]?.labels; // ['aws_kms_key', 'k']
 */
export function parseHcl(text: string, options: ParseHclOptions = {}): ParseHclResult {
  const p = new Parser(text, options.maxDepth ?? 256);
  try {
    const body = p.parseBody(true);
    return { body, error: undefined, duplicates: p.duplicates };
  } catch (e) {
    if (e instanceof HclSyntaxError) return { body: undefined, error: e, duplicates: p.duplicates };
    // Belt and braces: the depth cap keeps the stack small, but never let a RangeError escape.
    if (e instanceof RangeError) return { body: undefined, error: new HclSyntaxError('hcl-too-deep', 'The file is nested too deeply to read.', p.pos), duplicates: [] };
    throw e;
  }
}

const BINARY_LEVELS: readonly (readonly string[])[] = [['||'], ['&&'], ['==', '!='], ['<=', '>=', '<', '>'], ['+', '-'], ['*', '/', '%']];
/** Operator chains (`1 + 1 + …`) are left-nested trees; cap their height so walking them stays shallow. */
const MAX_CHAIN = 512;

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c > 127 && /[\p{L}\p{Nl}]/u.test(String.fromCodePoint(c)));
}
function isIdContinue(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57) || c === 45 || (c > 127 && /[\p{Mn}\p{Mc}\p{Nd}\p{Pc}]/u.test(String.fromCodePoint(c)));
}
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

class Parser {
  pos = 0;
  private depth = 0;
  readonly duplicates: Attribute[] = [];
  /** Whether a newline ends the current construct (bodies and object items) or is just space (inside `(` `[` `${`). */
  private newlineEnds = true;

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  private fail(message: string, at = this.pos): never {
    throw new HclSyntaxError('hcl-syntax', message, at);
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) throw new HclSyntaxError('hcl-too-deep', `The file nests blocks or expressions more than ${this.maxDepth} levels deep.`, this.pos);
  }
  private leave(): void {
    this.depth--;
  }

  private code(i = this.pos): number {
    return i < this.s.length ? this.s.charCodeAt(i) : -1;
  }

  /** Skip spaces and comments; newlines too unless they are significant here. Returns true if a newline was skipped. */
  private skip(newlines = !this.newlineEnds): boolean {
    const s = this.s;
    let sawNewline = false;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 13) this.pos++;
      else if (c === 10) {
        if (!newlines) return sawNewline;
        sawNewline = true;
        this.pos++;
      } else if (c === 35 || (c === 47 && s.charCodeAt(this.pos + 1) === 47)) {
        // A line comment ends at the newline, which stays (it may end an attribute).
        const nl = s.indexOf('\n', this.pos);
        this.pos = nl < 0 ? s.length : nl;
      } else if (c === 47 && s.charCodeAt(this.pos + 1) === 42) {
        const close = s.indexOf('*/', this.pos + 2);
        if (close < 0) this.fail('A /* comment is not closed.');
        const nl = newlines ? -1 : this.nextNewline(this.pos);
        if (!newlines && nl >= 0 && nl < close) {
          // A multi-line comment counts as a newline where newlines are significant.
          this.pos = close + 2;
          return true;
        }
        this.pos = close + 2;
      } else return sawNewline;
    }
  }

  private nlFrom = -1;
  private nlAt = -1;
  /** The next newline at or after `from`, cached: many comments on one long line stay linear. */
  private nextNewline(from: number): number {
    if (!(this.nlFrom >= 0 && this.nlFrom <= from && (this.nlAt >= from || this.nlAt === -1))) {
      this.nlFrom = from;
      this.nlAt = this.s.indexOf('\n', from);
    }
    return this.nlAt;
  }

  private ident(): string | undefined {
    const start = this.pos;
    const c = this.s.codePointAt(start) ?? -1;
    if (!isIdStart(c)) return undefined;
    let i = start + (c > 0xffff ? 2 : 1);
    for (;;) {
      const d = this.s.codePointAt(i) ?? -1;
      if (d < 0 || !isIdContinue(d)) break;
      i += d > 0xffff ? 2 : 1;
    }
    this.pos = i;
    return this.s.slice(start, i);
  }

  private expect(ch: string, what: string): void {
    if (this.s.startsWith(ch, this.pos)) this.pos += ch.length;
    else this.fail(`Expected ${what}.`);
  }

  /** A body: attributes and blocks, each on its own line. `top` ends at end of input, else at `}`. */
  parseBody(top: boolean): Body {
    const body: Body = { attributes: [], blocks: [] };
    const seen = new Set<string>();
    const saved = this.newlineEnds;
    this.newlineEnds = true;
    for (;;) {
      this.skip(true);
      if (this.pos >= this.s.length) {
        if (!top) this.fail('A block is not closed: expected "}".');
        break;
      }
      if (this.code() === 125 /* } */) {
        if (top) this.fail('Unexpected "}".');
        break;
      }
      const start = this.pos;
      const name = this.ident();
      if (name === undefined) this.fail('Expected an attribute name or a block type.');
      this.skip(false);
      const c = this.code();
      if (c === 61 /* = */ && this.code(this.pos + 1) !== 61) {
        this.pos++;
        const expr = this.parseExpression();
        const attr: Attribute = { name, expr, start, end: this.pos };
        if (seen.has(name)) this.duplicates.push(attr);
        else {
          seen.add(name);
          body.attributes.push(attr);
        }
        this.endOfItem();
      } else {
        const labels: string[] = [];
        for (;;) {
          this.skip(false);
          const d = this.code();
          if (d === 34 /* " */) {
            const t = this.parseQuoted();
            if (t.parts.some((p) => p.kind !== 'text')) this.fail('A block label cannot hold an interpolation.', t.start);
            labels.push(t.parts.map((p) => (p.kind === 'text' ? p.text : '')).join(''));
          } else if (d === 123 /* { */) break;
          else {
            const label = this.ident();
            if (label === undefined) this.fail('Expected a block label or "{".');
            labels.push(label);
          }
        }
        this.pos++;
        this.enter();
        const inner = this.parseBody(false);
        this.leave();
        this.pos++; // the closing brace, checked by parseBody
        body.blocks.push({ type: name, labels, body: inner, start, end: this.pos });
        this.endOfItem();
      }
    }
    this.newlineEnds = saved;
    return body;
  }

  /** After an attribute or block: a newline, a comment, the end of input, or the closing brace of a one-line block. */
  private endOfItem(): void {
    const sawNewline = this.skip(false);
    const c = this.code();
    if (sawNewline || c === 10 || c === -1 || c === 125) return;
    this.fail('Expected a newline after the attribute or block.');
  }

  parseExpression(): Expr {
    this.enter();
    const cond = this.parseBinary(0);
    this.skip();
    let result = cond;
    if (this.code() === 63 /* ? */) {
      this.pos++;
      const then = this.parseExpression();
      this.skip();
      this.expect(':', '":" in a conditional expression');
      const otherwise = this.parseExpression();
      result = { kind: 'conditional', cond, then, else: otherwise, start: cond.start, end: this.pos };
    }
    this.leave();
    return result;
  }

  private parseBinary(level: number): Expr {
    if (level >= BINARY_LEVELS.length) return this.parseUnary();
    let left = this.parseBinary(level + 1);
    let chain = 0;
    for (;;) {
      const save = this.pos;
      this.skip();
      const op = this.binaryOp(level);
      if (op === undefined) {
        this.pos = save;
        return left;
      }
      this.pos += op.length;
      const right = this.parseBinary(level + 1);
      if (++chain > MAX_CHAIN) throw new HclSyntaxError('hcl-too-deep', `An expression chains more than ${MAX_CHAIN} operators.`, this.pos);
      left = { kind: 'binary', op, left, right, start: left.start, end: this.pos };
    }
  }

  private binaryOp(level: number): string | undefined {
    const s = this.s;
    const p = this.pos;
    for (const op of BINARY_LEVELS[level]!) {
      if (!s.startsWith(op, p)) continue;
      // Longer operators come first in each level's list only where needed: `<=` before `<`.
      if ((op === '<' || op === '>') && s.charCodeAt(p + 1) === 61) continue;
      return op;
    }
    return undefined;
  }

  private parseUnary(): Expr {
    this.skip();
    const c = this.code();
    if (c === 45 /* - */ || (c === 33 /* ! */ && this.code(this.pos + 1) !== 61)) {
      const start = this.pos++;
      this.enter();
      const operand = this.parseUnary();
      this.leave();
      return { kind: 'unary', op: c === 45 ? '-' : '!', operand, start, end: this.pos };
    }
    return this.parsePostfix(this.parseTerm());
  }

  private parsePostfix(term: Expr): Expr {
    const steps: TraversalStep[] = [];
    for (;;) {
      const save = this.pos;
      this.skip();
      const c = this.code();
      if (c === 46 /* . */ && !this.s.startsWith('...', this.pos)) {
        this.pos++;
        if (this.code() === 42 /* * */) {
          this.pos++;
          steps.push({ kind: 'splat' });
        } else if (isDigit(this.code())) {
          const st = this.pos;
          while (isDigit(this.code())) this.pos++;
          steps.push({ kind: 'index', key: { kind: 'literal', value: Number(this.s.slice(st, this.pos)), start: st, end: this.pos } });
        } else {
          const name = this.ident();
          if (name === undefined) this.fail('Expected an attribute name after ".".');
          steps.push({ kind: 'attr', name });
        }
      } else if (c === 91 /* [ */) {
        this.pos++;
        const saved = this.newlineEnds;
        this.newlineEnds = false;
        this.skip();
        if (this.code() === 42 /* * */) {
          this.pos++;
          this.skip();
          this.expect(']', '"]" after "[*"');
          steps.push({ kind: 'splat' });
        } else {
          const key = this.parseExpression();
          this.skip();
          this.expect(']', '"]" after an index');
          steps.push({ kind: 'index', key });
        }
        this.newlineEnds = saved;
      } else {
        this.pos = save;
        break;
      }
    }
    if (steps.length === 0) return term;
    if (term.kind === 'traversal' && term.steps.length === 0) return { ...term, steps, end: this.pos };
    return { kind: 'postfix', target: term, steps, start: term.start, end: this.pos };
  }

  private parseTerm(): Expr {
    this.skip();
    const start = this.pos;
    const c = this.code();
    if (c === -1) this.fail('Expected an expression, found the end of the file.');
    if (c === 34 /* " */) return this.parseQuoted();
    if (c === 60 /* < */ && this.s.startsWith('<<', start)) return this.parseHeredoc();
    if (isDigit(c)) return this.parseNumber();
    if (c === 91 /* [ */) return this.parseTuple();
    if (c === 123 /* { */) return this.parseObject();
    if (c === 40 /* ( */) {
      this.pos++;
      const saved = this.newlineEnds;
      this.newlineEnds = false;
      const expr = this.parseExpression();
      this.skip();
      this.expect(')', '")"');
      this.newlineEnds = saved;
      return { kind: 'paren', expr, start, end: this.pos };
    }
    const name = this.ident();
    if (name === undefined) this.fail('Expected an expression.');
    if (name === 'true' || name === 'false') return { kind: 'literal', value: name === 'true', start, end: this.pos };
    if (name === 'null') return { kind: 'literal', value: null, start, end: this.pos };
    // Function call, with optional provider namespace (`provider::aws::arn_parse(...)`).
    let fn = name;
    while (this.s.startsWith('::', this.pos)) {
      this.pos += 2;
      const part = this.ident();
      if (part === undefined) this.fail('Expected a function name after "::".');
      fn += `::${part}`;
    }
    const save = this.pos;
    this.skip(false);
    if (this.code() === 40 /* ( */) return this.parseCall(fn, start);
    this.pos = save;
    if (fn !== name) this.fail('Expected "(" after a namespaced function name.');
    return { kind: 'traversal', root: name, steps: [], start, end: this.pos };
  }

  private parseNumber(): Expr {
    const start = this.pos;
    while (isDigit(this.code())) this.pos++;
    if (this.code() === 46 && isDigit(this.code(this.pos + 1))) {
      this.pos++;
      while (isDigit(this.code())) this.pos++;
    }
    const e = this.code();
    if (e === 101 || e === 69) {
      let i = this.pos + 1;
      if (this.code(i) === 43 || this.code(i) === 45) i++;
      if (isDigit(this.code(i))) {
        this.pos = i;
        while (isDigit(this.code())) this.pos++;
      }
    }
    return { kind: 'literal', value: Number(this.s.slice(start, this.pos)), start, end: this.pos };
  }

  private parseCall(name: string, start: number): Expr {
    this.pos++; // (
    const saved = this.newlineEnds;
    this.newlineEnds = false;
    this.enter();
    const args: Expr[] = [];
    let expandFinal = false;
    for (;;) {
      this.skip();
      if (this.code() === 41 /* ) */) break;
      args.push(this.parseExpression());
      this.skip();
      if (this.s.startsWith('...', this.pos)) {
        this.pos += 3;
        expandFinal = true;
        this.skip();
      }
      if (this.code() === 44 /* , */) {
        this.pos++;
        continue;
      }
      if (this.code() !== 41) this.fail('Expected "," or ")" in a function call.');
    }
    this.pos++;
    this.leave();
    this.newlineEnds = saved;
    return { kind: 'call', name, args, expandFinal, start, end: this.pos };
  }

  private isForKeyword(): boolean {
    const s = this.s;
    if (!s.startsWith('for', this.pos)) return false;
    const c = this.code(this.pos + 3);
    return c === 32 || c === 9 || c === 10 || c === 13;
  }

  private parseTuple(): Expr {
    const start = this.pos++;
    const saved = this.newlineEnds;
    this.newlineEnds = false;
    this.enter();
    this.skip();
    if (this.isForKeyword()) {
      this.parseForRest(']');
      this.leave();
      this.newlineEnds = saved;
      return { kind: 'for', start, end: this.pos };
    }
    const items: Expr[] = [];
    for (;;) {
      this.skip();
      if (this.code() === 93 /* ] */) break;
      items.push(this.parseExpression());
      this.skip();
      if (this.code() === 44) {
        this.pos++;
        continue;
      }
      if (this.code() !== 93) this.fail('Expected "," or "]" in a list.');
    }
    this.pos++;
    this.leave();
    this.newlineEnds = saved;
    return { kind: 'tuple', items, start, end: this.pos };
  }

  /** `for k, v in coll : expr [=> expr [...]] [if cond]` up to the closing bracket. */
  private parseForRest(close: ']' | '}'): void {
    this.parseForHeader('a for expression');
    this.skip();
    this.expect(':', '":" in a for expression');
    this.parseExpression();
    this.skip();
    if (close === '}') {
      this.expect('=>', '"=>" in an object for expression');
      this.parseExpression();
      this.skip();
      if (this.s.startsWith('...', this.pos)) {
        this.pos += 3;
        this.skip();
      }
    }
    if (this.s.startsWith('if', this.pos) && !isIdContinue(this.code(this.pos + 2))) {
      this.pos += 2;
      this.parseExpression();
      this.skip();
    }
    this.expect(close, `"${close}" at the end of a for expression`);
  }

  private parseObject(): Expr {
    const start = this.pos++;
    const saved = this.newlineEnds;
    this.enter();
    this.newlineEnds = false;
    this.skip();
    if (this.isForKeyword()) {
      this.parseForRest('}');
      this.leave();
      this.newlineEnds = saved;
      return { kind: 'for', start, end: this.pos };
    }
    const items: ObjectItem[] = [];
    for (;;) {
      this.newlineEnds = false;
      this.skip();
      if (this.code() === 125 /* } */) break;
      // Keys may not span lines with the value; an item ends at a newline or a comma.
      this.newlineEnds = true;
      const key = this.parseExpression();
      this.skip();
      const c = this.code();
      if (c === 61 /* = */ || c === 58 /* : */) this.pos++;
      else this.fail('Expected "=" or ":" after an object key.');
      const value = this.parseExpression();
      const keyName = key.kind === 'traversal' && key.steps.length === 0 ? key.root : literalString(key);
      items.push({ keyName, key, value });
      const sawNewline = this.skip(false);
      if (this.code() === 44) this.pos++;
      else if (!sawNewline && this.code() !== 10 && this.code() !== 125) this.fail('Expected a newline, "," or "}" after an object item.');
    }
    this.pos++;
    this.leave();
    this.newlineEnds = saved;
    return { kind: 'object', items, start, end: this.pos };
  }

  /** A quoted template: `"…"` with escapes, `${…}` interpolations and `%{…}` directives. */
  parseQuoted(): Expr & { kind: 'template' } {
    const start = this.pos++;
    const parts = this.parseTemplate(-1);
    return { kind: 'template', parts, heredoc: false, start, end: this.pos };
  }

  /**
   * Template content up to the closing quote (`end < 0`) or up to offset `end` (a heredoc body).
   * `strip` is the indentation a `<<-` heredoc removes from each line.
   */
  private parseTemplate(end: number, strip = 0): TemplatePart[] {
    const s = this.s;
    const parts: TemplatePart[] = [];
    let text = '';
    const quoted = end < 0;
    const limit = quoted ? s.length : end;
    let lineStart = !quoted;
    const flush = (): void => {
      if (text !== '') parts.push({ kind: 'text', text });
      text = '';
    };
    while (this.pos < limit) {
      if (lineStart) {
        lineStart = false;
        let n = 0;
        while (n < strip && (s.charCodeAt(this.pos) === 32 || s.charCodeAt(this.pos) === 9)) {
          this.pos++;
          n++;
        }
        continue;
      }
      const c = s.charCodeAt(this.pos);
      if (quoted && c === 34) {
        this.pos++;
        flush();
        return parts;
      }
      if (quoted && c === 10) this.fail('A quoted string is not closed on its line (use a heredoc for several lines).');
      if (quoted && c === 92 /* \ */) {
        text += this.escape();
        continue;
      }
      if ((c === 36 /* $ */ || c === 37) /* % */ && s.charCodeAt(this.pos + 1) === 123) {
        const directive = c === 37;
        const start = this.pos;
        this.pos += 2;
        if (s.charCodeAt(this.pos) === 126 /* ~ */) this.pos++;
        flush();
        const saved = this.newlineEnds;
        this.newlineEnds = false;
        this.enter();
        if (directive) {
          this.skip();
          const word = this.ident();
          if (word === 'if' || word === 'for') {
            if (word === 'for') {
              this.pos -= 3;
              this.skipForHeader();
            } else this.parseExpression();
          } else if (word !== 'else' && word !== 'endif' && word !== 'endfor') this.fail('Expected if, else, endif, for or endfor in a template directive.', start);
          parts.push({ kind: 'directive', start });
        } else parts.push({ kind: 'interp', expr: this.parseExpression() });
        this.skip();
        if (s.charCodeAt(this.pos) === 126) this.pos++;
        this.expect('}', '"}" to close a template interpolation');
        this.leave();
        this.newlineEnds = saved;
        if (this.pos > limit) this.fail('A template interpolation runs past the end of its heredoc.', start);
        continue;
      }
      // `$${` and `%%{` are literal `${` and `%{`.
      if ((c === 36 || c === 37) && s.charCodeAt(this.pos + 1) === c && s.charCodeAt(this.pos + 2) === 123) {
        text += c === 36 ? '${' : '%{';
        this.pos += 3;
        continue;
      }
      if (c === 10) {
        text += '\n';
        this.pos++;
        lineStart = true;
        continue;
      }
      // A run of plain characters at once.
      let j = this.pos + 1;
      while (j < limit) {
        const d = s.charCodeAt(j);
        if (d === 10 || d === 34 || d === 92 || d === 36 || d === 37) break;
        j++;
      }
      text += s.slice(this.pos, j);
      this.pos = j;
    }
    if (quoted) this.fail('A quoted string is not closed.');
    flush();
    return parts;
  }

  /** `for k, v in coll` inside a template directive. */
  private skipForHeader(): void {
    this.parseForHeader('a template for directive');
  }

  /** `for k[, v] in coll`, from the `for` keyword to the end of the collection expression. */
  private parseForHeader(what: string): void {
    this.pos += 3;
    this.skip();
    if (this.ident() === undefined) this.fail('Expected a variable name after "for".');
    this.skip();
    if (this.code() === 44) {
      this.pos++;
      this.skip();
      if (this.ident() === undefined) this.fail(`Expected a second variable name in ${what}.`);
      this.skip();
    }
    if (!this.s.startsWith('in', this.pos)) this.fail(`Expected "in" in ${what}.`);
    this.pos += 2;
    this.parseExpression();
  }

  private escape(): string {
    const s = this.s;
    const c = s[this.pos + 1];
    this.pos += 2;
    switch (c) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '"':
        return '"';
      case '\\':
        return '\\';
      case 'u':
      case 'U': {
        const len = c === 'u' ? 4 : 8;
        const hex = s.slice(this.pos, this.pos + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail('A \\u escape needs hexadecimal digits.', this.pos - 2);
        this.pos += len;
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('A \\u escape names no character.', this.pos - 2 - len);
        return String.fromCodePoint(cp);
      }
      default:
        return this.fail('Unknown escape sequence in a string.', this.pos - 2);
    }
  }

  /** `<<EOT` or `<<-EOT`, a newline, lines, and a line holding only the marker. */
  private parseHeredoc(): Expr {
    const s = this.s;
    const start = this.pos;
    this.pos += 2;
    const flush = s.charCodeAt(this.pos) === 45 /* - */;
    if (flush) this.pos++;
    const marker = this.ident();
    if (marker === undefined) this.fail('Expected a heredoc marker after "<<".');
    if (s.charCodeAt(this.pos) === 13) this.pos++;
    if (s.charCodeAt(this.pos) !== 10) this.fail('A heredoc marker must end its line.');
    this.pos++;
    const contentStart = this.pos;
    // Find the closing line: one pass over the lines, each compared once.
    let lineAt = contentStart;
    let closeLine = -1;
    let closeEnd = -1;
    let indent = Infinity;
    while (lineAt <= s.length) {
      const nl = s.indexOf('\n', lineAt);
      const lineEnd = nl < 0 ? s.length : nl;
      let i = lineAt;
      while (i < lineEnd && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
      let j = lineEnd;
      if (j > i && s.charCodeAt(j - 1) === 13) j--;
      if (j - i === marker.length && s.startsWith(marker, i)) {
        closeLine = lineAt;
        closeEnd = j;
        break;
      }
      if (i < j) indent = Math.min(indent, i - lineAt);
      if (nl < 0) break;
      lineAt = nl + 1;
    }
    if (closeLine < 0) this.fail(`A heredoc is not closed: no line holds only its marker.`, start);
    this.pos = contentStart;
    const parts = this.parseTemplate(closeLine, flush && indent !== Infinity ? indent : 0);
    this.pos = closeEnd;
    return { kind: 'template', parts, heredoc: true, start, end: this.pos };
  }
}

/** The string of a template with no interpolation or directive. */
export function literalString(e: Expr): string | undefined {
  if (e.kind === 'literal' && typeof e.value === 'string') return e.value;
  if (e.kind !== 'template') return undefined;
  let out = '';
  for (const p of e.parts) {
    if (p.kind !== 'text') return undefined;
    out += p.text;
  }
  return out;
}
