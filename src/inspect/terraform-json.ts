/**
 * Terraform's JSON syntax (`*.tf.json`, what CDKTF emits; `*.tfvars.json` for variable values) read
 * into the same `Body` of blocks and attributes `parseHcl` produces, with offsets into the JSON text,
 * so `terraform.ts` evaluates both syntaxes one way.
 *
 * The mapping follows https://developer.hashicorp.com/terraform/language/syntax/json:
 * - top-level `resource` and `data` nest two labels (`{"aws_kms_key": {"main": {…}}}`), `variable`,
 *   `module`, `output` and `provider` one, `locals` and `terraform` none; an array of objects where a
 *   block is expected is repeated blocks; a `"//"` property is a comment;
 * - inside a block, a property whose name is a known nested block type (`statement`, `principals`,
 *   `condition`, `rotation_policy`, `dynamic`, …) and whose value is an object or an array of objects
 *   is a nested block; any other property is an attribute;
 * - an attribute's string is a template (`"${var.x}"`, `"arn:${local.p}"`) parsed by the HCL parser;
 *   numbers, booleans, `null`, arrays and objects are literals, tuples and object constructors;
 * - a variable's `default` and `description`, a module's `source` and `version`, and every value of a
 *   `.tfvars.json` file are literal: their strings are never templates.
 *
 * Hostile input is expected: nesting is capped (`maxDepth`), the walk is one linear pass, and errors
 * carry a stable code and an offset, never the text of the file. Never throws.
 */
import { parseHcl, type Attribute, type Block, type Body, type Expr, type ObjectItem } from './hcl.js';

export type TerraformJsonErrorCode = 'json-syntax' | 'hcl-syntax' | 'hcl-too-deep';

export interface TerraformJsonError {
  code: TerraformJsonErrorCode;
  message: string;
  /** Offset into the JSON text. */
  offset: number;
}

export interface ParseTerraformJsonOptions {
  /** Deepest nesting of JSON values. Default 256. */
  maxDepth?: number;
  /** A `.tfvars.json` file: the root's properties are literal variable values. */
  tfvars?: boolean;
}

export interface ParseTerraformJsonResult {
  body: Body | undefined;
  error: TerraformJsonError | undefined;
  /** Attributes set twice in one body, by the second one. */
  duplicates: Attribute[];
}

/**
 * Parse a Terraform JSON document into a `Body`. Never throws.
 *
 * @example
 * const { body } = parseTerraformJson('{"resource":{"aws_kms_key":{"k":{"enable_key_rotation":true}}}}');
 * body?.blocks[0]?.labels; // ['aws_kms_key', 'k']
 */
export function parseTerraformJson(text: string, options: ParseTerraformJsonOptions = {}): ParseTerraformJsonResult {
  const maxDepth = options.maxDepth ?? 256;
  let root: JNode;
  try {
    root = new JsonParser(text, maxDepth).parseDocument();
  } catch (e) {
    if (e instanceof JsonError) return { body: undefined, error: { code: e.code, message: e.message, offset: e.offset }, duplicates: [] };
    if (e instanceof RangeError) return { body: undefined, error: { code: 'hcl-too-deep', message: 'The file is nested too deeply to read.', offset: 0 }, duplicates: [] };
    throw e;
  }
  if (root.kind !== 'object') return { body: undefined, error: { code: 'json-syntax', message: 'A Terraform JSON file must hold one JSON object.', offset: root.start }, duplicates: [] };
  const c = new Converter(maxDepth);
  try {
    const body = options.tfvars ? c.literalBody(root) : c.rootBody(root);
    return { body, error: undefined, duplicates: c.duplicates };
  } catch (e) {
    if (e instanceof JsonError) return { body: undefined, error: { code: e.code, message: e.message, offset: e.offset }, duplicates: c.duplicates };
    if (e instanceof RangeError) return { body: undefined, error: { code: 'hcl-too-deep', message: 'The file is nested too deeply to read.', offset: 0 }, duplicates: [] };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON with offsets

interface JBase {
  start: number;
  end: number;
}
interface JEntry {
  key: string;
  keyStart: number;
  keyEnd: number;
  value: JNode;
}
interface JString extends JBase {
  kind: 'string';
  value: string;
  /** Offset in the text of each UTF-16 unit of `value`, when escapes make it differ from `start + 1 + i`. */
  map: number[] | undefined;
}
type JNode =
  | (JBase & { kind: 'object'; entries: JEntry[] })
  | (JBase & { kind: 'array'; items: JNode[] })
  | JString
  | (JBase & { kind: 'literal'; value: number | boolean | null });

class JsonError extends Error {
  override readonly name = 'JsonError';
  constructor(
    readonly code: TerraformJsonErrorCode,
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class JsonParser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
  ) {}

  private fail(message: string, at = this.pos): never {
    throw new JsonError('json-syntax', message, at);
  }

  parseDocument(): JNode {
    if (this.s.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.ws();
    if (this.pos >= this.s.length) this.fail('The file is empty: expected a JSON object.');
    const v = this.value();
    this.ws();
    if (this.pos < this.s.length) this.fail('Unexpected content after the JSON value.');
    return v;
  }

  private ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else return;
    }
  }

  private value(): JNode {
    const s = this.s;
    const c = s.charCodeAt(this.pos);
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++this.depth > this.maxDepth) throw new JsonError('hcl-too-deep', `The file nests JSON values more than ${this.maxDepth} levels deep.`, this.pos);
      const v = c === 123 ? this.object() : this.array();
      this.depth--;
      return v;
    }
    if (c === 34) return this.string();
    const start = this.pos;
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (s.startsWith(word, start)) {
        this.pos += word.length;
        return { kind: 'literal', value, start, end: this.pos };
      }
    }
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(s);
    if (m && m[0].length > 0 && m[0] !== '-') {
      this.pos += m[0].length;
      return { kind: 'literal', value: Number(m[0]), start, end: this.pos };
    }
    if (this.pos >= s.length) this.fail('The JSON ends where a value was expected.');
    return this.fail('Expected a JSON value (an object, array, string, number, true, false or null).');
  }

  private object(): JNode {
    const start = this.pos++;
    const entries: JEntry[] = [];
    this.ws();
    if (this.s.charCodeAt(this.pos) === 125) {
      this.pos++;
      return { kind: 'object', entries, start, end: this.pos };
    }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 34) this.fail('Expected a property name in double quotes.');
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 58) this.fail('Expected ":" after a property name.');
      this.pos++;
      this.ws();
      const value = this.value();
      entries.push({ key: key.value, keyStart: key.start, keyEnd: key.end, value });
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        continue;
      }
      if (c === 125) {
        this.pos++;
        return { kind: 'object', entries, start, end: this.pos };
      }
      this.fail(this.pos >= this.s.length ? 'An object is not closed.' : 'Expected "," or "}" in an object.');
    }
  }

  private array(): JNode {
    const start = this.pos++;
    const items: JNode[] = [];
    this.ws();
    if (this.s.charCodeAt(this.pos) === 93) {
      this.pos++;
      return { kind: 'array', items, start, end: this.pos };
    }
    for (;;) {
      this.ws();
      items.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      if (c === 44) {
        this.pos++;
        continue;
      }
      if (c === 93) {
        this.pos++;
        return { kind: 'array', items, start, end: this.pos };
      }
      this.fail(this.pos >= this.s.length ? 'An array is not closed.' : 'Expected "," or "]" in an array.');
    }
  }

  private string(): JString {
    const s = this.s;
    const start = this.pos++;
    let out = '';
    let map: number[] | undefined;
    let runStart = this.pos;
    const flushRun = (to: number): void => {
      if (map) for (let i = runStart; i < to; i++) map.push(i);
      out += s.slice(runStart, to);
    };
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (Number.isNaN(c)) this.fail('A string is not closed.', start);
      if (c === 34) {
        flushRun(this.pos);
        this.pos++;
        return { kind: 'string', value: out, map, start, end: this.pos };
      }
      if (c < 32) this.fail('A control character (a newline?) inside a string must be escaped.');
      if (c !== 92) {
        this.pos++;
        continue;
      }
      flushRun(this.pos);
      if (!map) {
        map = [];
        for (let i = 0; i < out.length; i++) map.push(start + 1 + i);
      }
      const at = this.pos;
      const e = s[this.pos + 1];
      let ch: string;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          ch = e;
          break;
        case 'b':
          ch = '\b';
          break;
        case 'f':
          ch = '\f';
          break;
        case 'n':
          ch = '\n';
          break;
        case 'r':
          ch = '\r';
          break;
        case 't':
          ch = '\t';
          break;
        case 'u': {
          const hex = s.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('A \\u escape needs four hexadecimal digits.');
          ch = String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail('Unknown escape sequence in a string.');
      }
      this.pos += 2;
      out += ch;
      map.push(at);
      runStart = this.pos;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JSON → Body

/** Top-level block types and how many labels each nests. */
const TOP_LABELS: Readonly<Record<string, number>> = { resource: 2, data: 2, variable: 1, module: 1, output: 1, provider: 1, locals: 0, terraform: 0 };

/**
 * Property names that are nested blocks when their value is an object or an array of objects (the
 * schema decides in Terraform; Keywarden knows the blocks it reads, and the meta blocks).
 */
const NESTED_BLOCKS: ReadonlySet<string> = new Set([
  // aws_iam_policy_document
  'statement',
  'principals',
  'not_principals',
  'condition',
  // google_kms_crypto_key, azurerm_key_vault_key, aws_kms_grant
  'version_template',
  'rotation_policy',
  'automatic',
  'constraints',
  // meta and common blocks
  'lifecycle',
  'timeouts',
  'validation',
  'precondition',
  'postcondition',
  'connection',
  'required_providers',
  'cloud',
  'workspaces',
]);
/** Nested blocks with one label: `"dynamic": {"statement": {…}}`, `"backend": {"s3": {…}}`, `"provisioner": {"local-exec": {…}}`. */
const LABELLED_BLOCKS: ReadonlySet<string> = new Set(['dynamic', 'backend', 'provisioner']);
/** Per top-level block type: properties whose strings are literal, never templates. */
const LITERAL_ATTRS: Readonly<Record<string, ReadonlySet<string>>> = {
  variable: new Set(['default', 'description', 'type', 'sensitive', 'nullable']),
  module: new Set(['source', 'version']),
  output: new Set(['description']),
  terraform: new Set(['required_version']),
};

const isComment = (key: string): boolean => key === '//';

class Converter {
  readonly duplicates: Attribute[] = [];
  private depth = 0;

  constructor(private readonly maxDepth: number) {}

  rootBody(root: JNode & { kind: 'object' }): Body {
    const body: Body = { attributes: [], blocks: [] };
    for (const e of root.entries) {
      const labels = TOP_LABELS[e.key];
      if (labels === undefined) continue; // `//`, and block types Keywarden does not read (moved, import, check, …)
      this.labelled(e.key, e.value, labels, [], e.keyStart, body.blocks, e.key);
    }
    return body;
  }

  /** A `.tfvars.json` file: every property a literal attribute. */
  literalBody(root: JNode & { kind: 'object' }): Body {
    const body: Body = { attributes: [], blocks: [] };
    for (const e of root.entries) if (!isComment(e.key)) this.addAttr(body, e, true);
    return body;
  }

  /** Blocks of `type` under `node`, which nests `left` more labels; `at` is where the innermost label (or the type) is written. */
  private labelled(type: string, node: JNode, left: number, labels: string[], at: number, out: Block[], top: string): void {
    if (node.kind === 'array') {
      for (const item of node.items) this.labelled(type, item, left, labels, item.start, out, top);
      return;
    }
    if (node.kind !== 'object') return;
    if (left === 0) {
      out.push({ type, labels, body: this.body(node, top), start: at, end: node.end });
      return;
    }
    for (const e of node.entries) {
      if (isComment(e.key)) continue;
      this.labelled(type, e.value, left - 1, [...labels, e.key], e.keyStart, out, top);
    }
  }

  private body(node: JNode & { kind: 'object' }, top: string): Body {
    this.enter(node.start);
    const body: Body = { attributes: [], blocks: [] };
    const literal = top === 'locals' ? undefined : LITERAL_ATTRS[top];
    for (const e of node.entries) {
      if (isComment(e.key)) continue;
      if (top !== 'locals' && top !== 'variable' && LABELLED_BLOCKS.has(e.key) && e.value.kind === 'object') {
        this.labelled(e.key, e.value, 1, [], e.keyStart, body.blocks, e.key === 'dynamic' ? 'dynamic' : top);
      } else if (top !== 'locals' && NESTED_BLOCKS.has(e.key) && isBlockValue(e.value)) {
        this.labelled(e.key, e.value, 0, [], e.keyStart, body.blocks, top);
      } else if (top === 'dynamic' && e.key === 'content' && e.value.kind === 'object') {
        this.labelled('content', e.value, 0, [], e.keyStart, body.blocks, 'resource');
      } else this.addAttr(body, e, literal?.has(e.key) ?? false);
    }
    this.depth--;
    return body;
  }

  private addAttr(body: Body, e: JEntry, literal: boolean): void {
    const a: Attribute = { name: e.key, expr: this.expr(e.value, literal), start: e.keyStart, end: e.value.end };
    if (body.attributes.some((x) => x.name === e.key)) this.duplicates.push(a);
    body.attributes.push(a);
  }

  private enter(at: number): void {
    if (++this.depth > this.maxDepth) throw new JsonError('hcl-too-deep', `The file nests blocks more than ${this.maxDepth} levels deep.`, at);
  }

  private expr(node: JNode, literal: boolean): Expr {
    switch (node.kind) {
      case 'literal':
        return { kind: 'literal', value: node.value, start: node.start, end: node.end };
      case 'string':
        return literal || !(node.value.includes('${') || node.value.includes('%{')) ? textTemplate(node.value, node.start, node.end) : this.template(node);
      case 'array': {
        this.enter(node.start);
        const items = node.items.map((i) => this.expr(i, literal));
        this.depth--;
        return { kind: 'tuple', items, start: node.start, end: node.end };
      }
      case 'object': {
        this.enter(node.start);
        const items: ObjectItem[] = node.entries.map((e) => ({ keyName: e.key, key: textTemplate(e.key, e.keyStart, e.keyEnd), value: this.expr(e.value, literal) }));
        this.depth--;
        return { kind: 'object', items, start: node.start, end: node.end };
      }
    }
  }

  /** A string with `${…}` or `%{…}`: parsed as an HCL heredoc template (no escapes to redo), offsets mapped back into the JSON string. */
  private template(node: JString): Expr {
    const content = node.value;
    const marker = heredocMarker(content);
    const prefix = `v = <<${marker}\n`;
    const src = `${prefix}${content}\n${marker}\n`;
    const base = prefix.length;
    const map = (o: number): number => {
      const rel = o - base;
      if (rel < 0) return node.start;
      if (rel >= content.length) return node.end - 1;
      return node.map ? node.map[rel]! : node.start + 1 + rel;
    };
    const { body, error } = parseHcl(src, { maxDepth: Math.max(1, this.maxDepth - this.depth) });
    if (error || !body) {
      const e = error!;
      throw new JsonError(e.code, e.message, map(e.offset));
    }
    const parsed = body.attributes[0]!.expr;
    if (parsed.kind !== 'template') throw new JsonError('hcl-syntax', 'A string could not be read as a template.', node.start);
    const parts = parsed.parts.slice();
    // The heredoc adds a newline after the content: drop it.
    const last = parts[parts.length - 1];
    if (last?.kind === 'text') {
      const text = last.text.slice(0, -1);
      if (text === '') parts.pop();
      else parts[parts.length - 1] = { kind: 'text', text };
    }
    remapOffsets(parts, map);
    return { kind: 'template', parts, heredoc: false, start: node.start, end: node.end };
  }
}

function isBlockValue(v: JNode): boolean {
  return v.kind === 'object' || (v.kind === 'array' && v.items.length > 0 && v.items.every((i) => i.kind === 'object'));
}

function textTemplate(text: string, start: number, end: number): Expr {
  return { kind: 'template', parts: text === '' ? [] : [{ kind: 'text', text }], heredoc: false, start, end };
}

/** A heredoc marker no line of `content` equals (trimmed): one linear pass over the lines. */
function heredocMarker(content: string): string {
  const taken = new Set<string>();
  for (const line of content.split('\n')) {
    const t = line.trim();
    if (t.startsWith('KWJSON')) taken.add(t);
  }
  let i = 0;
  while (taken.has(`KWJSON${i}`)) i++;
  return `KWJSON${i}`;
}

/** Rewrite every `start`/`end` offset in a parsed expression tree (depth is bounded by the parser's cap). */
function remapOffsets(x: unknown, map: (o: number) => number): void {
  if (Array.isArray(x)) {
    for (const v of x) remapOffsets(v, map);
    return;
  }
  if (typeof x !== 'object' || x === null) return;
  const o = x as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if ((k === 'start' || k === 'end') && typeof v === 'number') o[k] = map(v);
    else if (typeof v === 'object' && v !== null) remapOffsets(v, map);
  }
}
