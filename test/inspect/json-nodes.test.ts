/**
 * The strict-JSON fast path builds the tree the YAML parser builds for the same text: same shape,
 * values, start offsets and line starts; and declines everything that is not strict JSON with a
 * collection at the top, so that such text goes through the YAML parser as before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseJsonNodes } from '../../src/inspect/json-nodes.js';
import { loadYaml } from '../../src/inspect/yaml-doc.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Shape, values and start offsets of a node tree, as plain data. */
function shape(n: unknown): unknown {
  if (isScalar(n)) return { s: n.value, at: n.range?.[0], tag: n.tag?.startsWith('!') ? n.tag : undefined };
  if (isSeq(n)) return { seq: n.items.map(shape), at: n.range?.[0] };
  if (isMap(n)) return { map: n.items.map((p) => (isPair(p) ? [shape(p.key), shape(p.value)] : 'not a pair')), at: n.range?.[0] };
  return { other: String(n) };
}

function viaYaml(text: string): { tree: unknown; lineStarts: number[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: false, keepSourceTokens: false });
  if (!Array.isArray(docs) || docs.length !== 1 || docs[0]!.errors.length > 0) throw new Error('the YAML parser did not read this JSON cleanly');
  return { tree: shape(docs[0]!.contents), lineStarts: lineCounter.lineStarts };
}

function expectSameAsYaml(text: string): void {
  const fast = parseJsonNodes(text, 64);
  expect(fast, text.slice(0, 200)).toBeDefined();
  const want = viaYaml(text);
  expect(shape(fast as YamlNode)).toEqual(want.tree);
  // loadYaml's positions on the fast path are the YAML parser's.
  const loaded = loadYaml('t.json', text, true, []);
  for (let off = 0; off <= text.length; off += Math.max(1, Math.floor(text.length / 50))) {
    const lc = new LineCounter();
    for (const s of want.lineStarts) lc.addNewLine(s);
    const p = lc.linePos(off);
    expect(loaded!.pos(off)).toEqual({ line: p.line, column: p.col });
  }
}

describe('parseJsonNodes', () => {
  it('builds the YAML parser’s tree for the JSON fixtures', () => {
    for (const f of ['test/fixtures/inspect/cloudformation/cdk.template.json', 'test/fixtures/policy/input.json', 'test/fixtures/inspect/terraform/json/main.tf.json']) expectSameAsYaml(readFileSync(join(ROOT, f), 'utf8'));
  });

  it('builds the YAML parser’s tree for edge cases of strict JSON', () => {
    for (const t of [
      '{}',
      '[]',
      ' \r\n{ "a" : 1 }\r\n',
      '\ufeff{"a": [1, -0, 2.5, -1e3, 1E+2, 12345678901234567890, true, false, null]}',
      '{"a": 1, "a": 2}',
      '{"": {"": []}}',
      '{"esc": "q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 \\ud800"}',
      '{\n\t"tabs": {\n\t\t"b": [\n\t\t\t1\n\t\t]\n\t}\n}',
      '{"a"\n: 1}',
      '[[[[{"deep": [[]]}]]]]',
      '{"unicode ✓": "日本語", "Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true}}}}',
    ])
      expectSameAsYaml(t);
  });

  it('builds the YAML parser’s tree for generated JSON in any layout', () => {
    const json = fc.jsonValue({ maxDepth: 5 }).filter((v) => typeof v === 'object' && v !== null);
    fc.assert(
      fc.property(json, fc.constantFrom(0, 1, 2, '\t'), (v, indent) => {
        expectSameAsYaml(JSON.stringify(v, null, indent));
      }),
      { numRuns: 200 },
    );
  });

  it('declines what is not strict JSON with a collection at the top', () => {
    for (const t of [
      '',
      '   ',
      '1',
      '"a"',
      'null',
      '{"a": 1,}',
      '[1,]',
      '[,1]',
      '{,}',
      '{"a" 1}',
      '{"a":}',
      '[1 2]',
      '{"a": 1}}',
      '{"a": 1}\n{"b": 2}',
      '[1]]',
      '[1',
      '{"a": [1}',
      '{"a": {]}',
      '// c\n{"a": 1}',
      '{"a": 1} # c',
      "{'a': 1}",
      '{a: 1}',
      '{"a": NaN}',
      '[01]',
      '[1.]',
      '[.5]',
      '[+1]',
      '[-]',
      '[1e]',
      '[tru]',
      '[truex]',
      '{"a": "x\ty"}',
      '{"a": "line\nbreak"}',
      '{"a": "\\x"}',
      '{"a": "\\u12"}',
      '{"a": "unterminated}',
      '---\n{"a": 1}',
    ])
      expect(parseJsonNodes(t, 64), JSON.stringify(t)).toBeUndefined();
  });

  it('declines nesting deeper than the limit (the YAML path reports it)', () => {
    expect(parseJsonNodes(`${'['.repeat(10)}${']'.repeat(10)}`, 10)).toBeDefined();
    expect(parseJsonNodes(`${'['.repeat(11)}${']'.repeat(11)}`, 10)).toBeUndefined();
    expect(parseJsonNodes(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 64)).toBeUndefined();
  });
});
