/**
 * The HCL parser: the syntax Terraform files use, with positions; errors with a code and an offset;
 * and agreement with HashiCorp's own parser (`@cdktf/hcl2json`, the Go HCL library compiled to
 * WebAssembly) on every Terraform fixture.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parseHcl, type Body, type Expr } from '../../src/inspect/hcl.js';
import { fixtureFiles } from './helpers.js';

const parse = (text: string): Body => {
  const r = parseHcl(text);
  if (r.error) throw new Error(`${r.error.code} at ${r.error.offset}: ${r.error.message}`);
  return r.body!;
};
const attr = (text: string): Expr => parse(`a = ${text}\n`).attributes[0]!.expr;

describe('syntax', () => {
  it('blocks with quoted and bare labels, one-line blocks, attributes, positions as offsets', () => {
    const text = 'resource "aws_kms_key" main {\n  enable_key_rotation = true\n  lifecycle { prevent_destroy = true }\n}\n';
    const b = parse(text).blocks[0]!;
    expect(b).toMatchObject({ type: 'resource', labels: ['aws_kms_key', 'main'], start: 0 });
    expect(b.body.attributes[0]).toMatchObject({ name: 'enable_key_rotation', start: text.indexOf('enable_key_rotation') });
    expect(b.body.blocks[0]!.body.attributes[0]!.name).toBe('prevent_destroy');
  });

  it('comments of every kind, and newlines inside brackets and calls', () => {
    const body = parse('# a\n// b\n/* c\n d */ x = [\n  1, # one\n  2,\n]\ny = max(\n  1,\n  2\n) /* tail */\n');
    expect(body.attributes.map((a) => a.name)).toEqual(['x', 'y']);
    expect(attr('[1, 2, 3]')).toMatchObject({ kind: 'tuple', items: [{ value: 1 }, { value: 2 }, { value: 3 }] });
  });

  it('strings: escapes, $${ and %%{ literals, interpolations, directives', () => {
    expect(attr('"a\\n\\"b\\u00e9 $${x} %%{y}"')).toMatchObject({ kind: 'template', parts: [{ kind: 'text', text: 'a\n"bé ${x} %{y}' }] });
    const t = attr('"arn:${var.p}:x"');
    expect(t).toMatchObject({ kind: 'template', parts: [{ text: 'arn:' }, { kind: 'interp', expr: { kind: 'traversal', root: 'var', steps: [{ name: 'p' }] } }, { text: ':x' }] });
    expect(attr('"%{ if var.x }a%{ else }b%{ endif }"')).toMatchObject({ kind: 'template', parts: [{ kind: 'directive' }, { text: 'a' }, { kind: 'directive' }, { text: 'b' }, { kind: 'directive' }] });
    expect(attr('"${~ var.x ~}"')).toMatchObject({ kind: 'template', parts: [{ kind: 'interp' }] });
  });

  it('heredocs, plain and indented, with interpolations', () => {
    expect(attr('<<EOT\nline ${var.x}\n  two\nEOT')).toMatchObject({ kind: 'template', heredoc: true, parts: [{ text: 'line ' }, { kind: 'interp' }, { text: '\n  two\n' }] });
    expect(attr('<<-EOT\n    {\n      "a": 1\n    }\n    EOT')).toMatchObject({ parts: [{ text: '{\n  "a": 1\n}\n' }] });
  });

  it('objects with = and :, quoted and expression keys, commas or newlines', () => {
    expect(attr('{ a = 1, "b" = 2\n  c: 3\n  (var.k) = 4 }')).toMatchObject({
      kind: 'object',
      items: [{ keyName: 'a' }, { keyName: 'b' }, { keyName: 'c' }, { keyName: undefined, key: { kind: 'paren' } }],
    });
  });

  it('traversals, splats, calls, provider functions, operators, conditionals, for expressions', () => {
    expect(attr('data.aws_iam_policy_document.p.json')).toMatchObject({ kind: 'traversal', root: 'data', steps: [{ name: 'aws_iam_policy_document' }, { name: 'p' }, { name: 'json' }] });
    expect(attr('aws_instance.x[*].id')).toMatchObject({ steps: [{ name: 'x' }, { kind: 'splat' }, { name: 'id' }] });
    expect(attr('var.list.0')).toMatchObject({ steps: [{ name: 'list' }, { kind: 'index', key: { value: 0 } }] });
    expect(attr('provider::aws::arn_parse(var.a)')).toMatchObject({ kind: 'call', name: 'provider::aws::arn_parse' });
    expect(attr('concat(var.a, var.b...)')).toMatchObject({ kind: 'call', expandFinal: true });
    expect(attr('1 + 2 * 3 == 7 && !false')).toMatchObject({ kind: 'binary', op: '&&', left: { op: '==', left: { op: '+', right: { op: '*' } } } });
    expect(attr('var.a >= 3 ? "x" : "y"')).toMatchObject({ kind: 'conditional', cond: { op: '>=' } });
    expect(attr('[for k, v in var.m : upper(v) if k != "x"]')).toMatchObject({ kind: 'for' });
    expect(attr('{for s in var.l : s => s...}')).toMatchObject({ kind: 'for' });
    expect(attr('-1.5e3')).toMatchObject({ kind: 'unary', op: '-', operand: { value: 1500 } });
    expect(attr('a-b')).toMatchObject({ kind: 'traversal', root: 'a-b' });
  });

  it('duplicate attributes are reported, the first kept', () => {
    const r = parseHcl('a = 1\na = 2\n');
    expect(r.body!.attributes).toHaveLength(1);
    expect(r.duplicates.map((d) => d.start)).toEqual([6]);
  });
});

describe('errors', () => {
  it.each([
    ['an unclosed block', 'resource "a" "b" {\n  x = 1\n', 'hcl-syntax'],
    ['an unclosed string', 'x = "abc\n', 'hcl-syntax'],
    ['two attributes on one line', 'x = 1 y = 2\n', 'hcl-syntax'],
    ['a missing value', 'x = \n', 'hcl-syntax'],
    ['an unclosed heredoc', 'x = <<EOT\nabc\n', 'hcl-syntax'],
    ['a stray brace', '}\n', 'hcl-syntax'],
    ['a bad escape', 'x = "\\q"\n', 'hcl-syntax'],
    ['an unclosed comment', '/* x\n', 'hcl-syntax'],
    ['an interpolation in a label', 'resource "${x}" "y" {}\n', 'hcl-syntax'],
  ])('%s is an error with a code and an offset', (_name, text, code) => {
    const r = parseHcl(text);
    expect(r.body).toBeUndefined();
    expect(r.error).toMatchObject({ code, offset: expect.any(Number) });
    expect(r.error!.offset).toBeLessThanOrEqual(text.length);
  });

  it('the message never quotes the file', () => {
    const r = parseHcl('secret = "hunter2-not-a-real-secret\n');
    expect(r.error!.message).not.toContain('hunter2');
  });
});

/** The hcl2json shape of a body, with every non-literal value as `<expr>` (hcl2json renders those as source text). */
function shape(body: Body): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of body.attributes) out[a.name] = value(a.expr);
  for (const b of body.blocks) {
    let node = out as Record<string, unknown>;
    if (b.labels.length === 0) {
      ((out[b.type] ??= []) as unknown[]).push(shape(b.body));
      continue;
    }
    node = (node[b.type] ??= {}) as Record<string, unknown>;
    for (const l of b.labels.slice(0, -1)) node = (node[l] ??= {}) as Record<string, unknown>;
    ((node[b.labels[b.labels.length - 1]!] ??= []) as unknown[]).push(shape(b.body));
  }
  return out;
}
function value(e: Expr): unknown {
  if (e.kind === 'literal') return e.value;
  if (e.kind === 'template' && e.parts.every((p) => p.kind === 'text')) return e.parts.map((p) => (p.kind === 'text' ? p.text : '')).join('');
  if (e.kind === 'tuple') return collapse(e.items.map(value));
  if (e.kind === 'object') return collapse(Object.fromEntries(e.items.map((i) => [i.keyName ?? '<key>', value(i.value)])));
  return '<expr>';
}
/** hcl2json: a string with `${` is an expression; a collection holding one is compared as a whole. */
function normalise(v: unknown): unknown {
  if (typeof v === 'string') return v.includes('${') ? '<expr>' : v;
  if (Array.isArray(v)) return collapse(v.map(normalise));
  if (v && typeof v === 'object') return collapse(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)])));
  return v;
}
function collapse<T>(v: T): T | '<expr>' {
  return JSON.stringify(v).includes('"<expr>"') && !isBlockish(v) ? '<expr>' : v;
}
/** Block arrays (arrays of bodies) and bodies are kept, so a difference deep inside still shows. */
function isBlockish(v: unknown): boolean {
  return Array.isArray(v) ? v.every((x) => x && typeof x === 'object' && !Array.isArray(x)) && v.length > 0 : false;
}

describe('agreement with HashiCorp HCL (hcl2json)', async () => {
  const hcl2json = createRequire(import.meta.url)('@cdktf/hcl2json') as { parse(file: string, text: string): Promise<Record<string, unknown>> };
  const files = fixtureFiles('terraform').filter((f) => f.path.endsWith('.tf'));

  it.each(files.map((f) => [f.path, f.text] as const))('%s', async (file, text) => {
    const theirs = await hcl2json.parse(file, text);
    const ours = shape(parse(text));
    // Compare attribute values where both are literal, and the block structure everywhere.
    expect(strip(normalise(ours))).toEqual(strip(normalise(theirs)));
  });

  it('both refuse the same broken files', async () => {
    for (const bad of ['x = "abc\n', 'resource "a" "b" {\n', 'x = 1 y = 2\n']) {
      await expect(hcl2json.parse('bad.tf', bad)).rejects.toThrow();
      expect(parseHcl(bad).error).toBeDefined();
    }
  });
});

/** `<expr>` collapsing can differ in how deep it reaches; compare with every collection that holds one collapsed. */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(strip);
    return JSON.stringify(items).includes('"<expr>"') && !items.every((x) => x && typeof x === 'object' && !Array.isArray(x)) ? '<expr>' : items;
  }
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
  return v;
}
