/**
 * Terraform JSON syntax (`*.tf.json`, `*.tfvars.json`) → the same Body as HCL, then the same facts:
 * variables, locals, policy documents and `jsonencode` resolve as in `.tf` files, positions point
 * into the JSON, and hostile JSON is a Problem, never a throw.
 */
import { describe, expect, it } from 'vitest';
import { inspectFile, inspectFiles, ProblemCode } from '../../src/inspect/index.js';
import { parseTerraformJson } from '../../src/inspect/terraform-json.js';
import { lineColumnOf } from '../../src/util/line-column.js';
import { factNamed, fixture, fixtureFiles, valueOf } from './helpers.js';

const MAIN = 'terraform/json/main.tf.json';

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
function where(text: string, needle: string, nth = 0): { line: number; column: number } {
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`no ${needle}`);
  }
  return lineColumnOf(text, i);
}

describe('Terraform JSON modules', () => {
  const r = inspectFiles(fixtureFiles('terraform/json'));
  const text = fixture(MAIN);

  it('reads the JSON module with no problem', () => {
    expect(r.problems).toEqual([]);
    expect(r.facts.map((f) => `${f.kind}:${f.name}`).sort()).toEqual(['alias:aws_kms_alias.payments', 'key:aws_kms_key.legacy', 'key:aws_kms_key.payments']);
  });

  it('reads literal attributes at their property, and the resource at its name', () => {
    const key = factNamed(r, 'key', 'aws_kms_key.legacy');
    expect(key).toMatchObject({ file: MAIN, ...where(text, '"legacy"'), format: 'terraform', provider: 'aws', resourceType: 'aws_kms_key' });
    expect(key.rotationEnabled).toEqual({ state: 'known', value: false, ...where(text, '"enable_key_rotation"') });
    expect(key.deletionWindowDays).toEqual({ state: 'known', value: 7, ...where(text, '"deletion_window_in_days"') });
    expect(key.multiRegion).toEqual({ state: 'absent' });
  });

  it('reads a "${jsonencode(…)}" policy string, each statement at its object inside the string', () => {
    const key = factNamed(r, 'key', 'aws_kms_key.legacy');
    const [st] = valueOf(key.policy);
    // `[{` is found at the `[`: the statement object starts one column later (escapes before it counted).
    const bracket = where(text, '[{');
    expect(st).toMatchObject({ sid: 'Everyone', hasConditions: false, line: bracket.line, column: bracket.column + 1 });
    expect(valueOf(st!.principals)).toEqual(['*']);
    expect(valueOf(st!.actions)).toEqual(['kms:*']);
  });

  it('resolves var.x from a JSON variable default and local.x from JSON locals', () => {
    const key = factNamed(r, 'key', 'aws_kms_key.payments');
    expect(key.rotationEnabled).toEqual({ state: 'known', value: true, ...where(text, '"enable_key_rotation"', 1) });
    expect(key.rotationPeriodDays).toEqual({ state: 'known', value: 90, ...where(text, '"rotation_period_in_days"') });
  });

  it('resolves a JSON aws_iam_policy_document: repeated statement blocks, single and repeated principals, a wildcard principal', () => {
    const key = factNamed(r, 'key', 'aws_kms_key.payments');
    const [root, anyone] = valueOf(key.policy);
    expect(root).toMatchObject({ sid: 'Root', hasConditions: false });
    expect(valueOf(root!.principals)).toEqual(['arn:aws:iam::111122223333:root']);
    expect(anyone).toMatchObject({ sid: 'Anyone', hasConditions: true });
    expect(valueOf(anyone!.principals)).toEqual(['*']);
    expect(valueOf(anyone!.actions)).toEqual(['kms:Decrypt']);
    // Each repeated statement is at its object.
    expect({ line: root!.line, column: root!.column }).toEqual(where(text, '{\n            "sid": "Root"'));
    expect({ line: anyone!.line, column: anyone!.column }).toEqual(where(text, '{\n            "sid": "Anyone"'));
  });

  it('takes a variable default literally: "${…}" in a default is text, not a template', () => {
    const alias = factNamed(r, 'alias', 'aws_kms_alias.payments');
    expect(valueOf(alias.aliasName)).toBe('alias/prod-${not_a_template}-payments');
    expect(alias.targetKey).toBe('aws_kms_key.payments');
    expect(factNamed(r, 'key', 'aws_kms_key.payments').aliases).toEqual(['alias/prod-${not_a_template}-payments']);
  });
});

describe('JSON and HCL in one folder', () => {
  it('is one module: a .tf variable feeds a .tf.json resource, a .tf.json policy document feeds a .tf resource', () => {
    const r = inspectFiles([
      { path: 'infra/variables.tf', text: 'variable "rotate" {\n  default = false\n}\n' },
      {
        path: 'infra/main.tf.json',
        text: JSON.stringify({
          resource: { aws_kms_key: { a: { enable_key_rotation: '${var.rotate}' } } },
          data: { aws_iam_policy_document: { p: { statement: { actions: ['kms:*'], resources: ['*'], principals: { type: 'AWS', identifiers: ['*'] } } } } },
        }),
      },
      { path: 'infra/b.tf', text: 'resource "aws_kms_key" "b" {\n  policy = data.aws_iam_policy_document.p.json\n}\n' },
    ]);
    expect(r.problems).toEqual([]);
    expect(factNamed(r, 'key', 'aws_kms_key.a').rotationEnabled).toMatchObject({ state: 'known', value: false });
    expect(valueOf(valueOf(factNamed(r, 'key', 'aws_kms_key.b').policy)[0]!.principals)).toEqual(['*']);
  });

  it('reads terraform.tfvars.json values over JSON defaults', () => {
    const r = inspectFiles([
      { path: 'm/variables.tf.json', text: '{"variable": {"days": {"default": 30}}}' },
      { path: 'm/terraform.tfvars.json', text: '{"days": 10}' },
      { path: 'm/main.tf.json', text: '{"resource": {"aws_kms_key": {"k": {"deletion_window_in_days": "${var.days}"}}}}' },
    ]);
    expect(r.problems).toEqual([]);
    expect(factNamed(r, 'key', 'aws_kms_key.k').deletionWindowDays).toMatchObject({ state: 'known', value: 10 });
  });

  it('keeps references unknown and dynamic blocks unresolved, as in HCL', () => {
    const r = inspectFile(
      'x.tf.json',
      JSON.stringify({
        resource: { aws_kms_key: { k: { enable_key_rotation: '${aws_s3_bucket.b.id == "" ? true : false}', policy: '${data.aws_iam_policy_document.d.json}' } } },
        data: { aws_iam_policy_document: { d: { dynamic: { statement: { for_each: '${var.s}', content: { actions: ['kms:*'] } } } } } },
      }),
    );
    expect(r.problems).toEqual([]);
    const k = factNamed(r, 'key', 'aws_kms_key.k');
    expect(k.rotationEnabled.state).toBe('unknown');
    expect(k.policy).toMatchObject({ state: 'unknown' });
  });
});

describe('parseTerraformJson', () => {
  it('maps labels, repeated blocks (arrays), comments and nested blocks', () => {
    const { body, error } = parseTerraformJson(
      JSON.stringify({
        '//': 'comment',
        provider: { aws: [{ region: 'us-east-1' }, { alias: 'west', region: 'us-west-2' }] },
        module: { kms: { source: './modules/${x}', name: '${var.n}' } },
        resource: { google_kms_crypto_key: { g: { version_template: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION' }, labels: { team: 'a' } } } },
      }),
    );
    expect(error).toBeUndefined();
    expect(body!.blocks.map((b) => `${b.type} ${b.labels.join(' ')}`)).toEqual(['provider aws', 'provider aws', 'module kms', 'resource google_kms_crypto_key g']);
    const mod = body!.blocks[2]!;
    // A module source is literal; other module arguments are templates.
    expect(mod.body.attributes[0]!.expr).toMatchObject({ kind: 'template', parts: [{ kind: 'text', text: './modules/${x}' }] });
    expect(mod.body.attributes[1]!.expr).toMatchObject({ kind: 'template', parts: [{ kind: 'interp', expr: { kind: 'traversal', root: 'var' } }] });
    const g = body!.blocks[3]!.body;
    expect(g.blocks.map((b) => b.type)).toEqual(['version_template']);
    // A map attribute that is not a known block stays an object expression.
    expect(g.attributes.map((a) => [a.name, a.expr.kind])).toEqual([['labels', 'object']]);
  });

  it('maps template offsets back through escapes', () => {
    const text = '{"locals": {"a": "\\u0041\\n${var.zz}"}}';
    const { body } = parseTerraformJson(text);
    const expr = body!.blocks[0]!.body.attributes[0]!.expr;
    expect(expr.kind).toBe('template');
    const interp = expr.kind === 'template' ? expr.parts.find((p) => p.kind === 'interp') : undefined;
    expect(interp?.kind === 'interp' ? interp.expr.start : -1).toBe(text.indexOf('var.zz'));
  });

  it('reports duplicate attributes', () => {
    const r = inspectFile('d.tf.json', '{"resource": {"aws_kms_key": {"k": {"is_enabled": true, "is_enabled": false}}}}');
    expect(r.problems.map((p) => p.code)).toEqual([ProblemCode.HCL_DUPLICATE]);
  });
});

describe('hostile Terraform JSON', () => {
  it('invalid JSON is a json-syntax problem at its line and column', () => {
    const text = '{\n  "resource": {\n    "aws_kms_key": { "k": { "a": 1, } }\n  }\n}\n';
    const r = inspectFile('bad.tf.json', text);
    expect(r.facts).toEqual([]);
    // At the `}` after the trailing comma, where a property name was expected.
    expect(r.problems).toEqual([{ file: 'bad.tf.json', code: ProblemCode.JSON_SYNTAX, message: expect.any(String), ...lineColumnOf(text, text.indexOf(', }') + 2) }]);
    expect(r.problems[0]).toMatchObject({ line: 3 });
    expect(r.problems[0]!.message).not.toContain('aws_kms_key');
  });

  it('an unclosed string, a root that is not an object, an empty file: problems, never throws', () => {
    for (const text of ['{"resource": {"a', '[1, 2]', '', '   ', '{"a": tru}', '{"a": 01}', '{"a": "x\ny"}', '{"a": "\\q"}', '{} {}']) {
      const r = inspectFile('x.tf.json', text);
      expect(r.problems.map((p) => p.code), text).toEqual([ProblemCode.JSON_SYNTAX]);
    }
  });

  it('a bad template inside a string is a syntax problem at the string', () => {
    const text = '{\n  "locals": {\n    "a": "${var.x +}"\n  },\n  "resource": {"aws_kms_key": {"k": {"description": "${local.a}"}}}\n}';
    const r = inspectFile('t.tf.json', text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: ProblemCode.HCL_SYNTAX, line: 3 });
  });

  it('100,000 nested arrays or objects are a too-deep problem, quickly', () => {
    const n = 100_000;
    for (const text of ['['.repeat(n) + ']'.repeat(n), '{"locals": {"a": ' + '{"b": '.repeat(n) + '1' + '}'.repeat(n) + '}}', '{"locals": {"a": "${' + '('.repeat(n) + '1' + ')'.repeat(n) + '}"}}']) {
      const t0 = Date.now();
      const r = inspectFile('deep.tf.json', text);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(r.facts).toEqual([]);
      expect(r.problems.map((p) => p.code)).toEqual([ProblemCode.HCL_TOO_DEEP]);
    }
  });

  it('a 3 MB file is a file-too-large problem by default, and reads in linear time when allowed', () => {
    const keys: Record<string, unknown> = {};
    for (let i = 0; i < 40_000; i++) keys[`k${i}`] = { enable_key_rotation: true, description: `key ${i} ${'x'.repeat(20)}`, policy: '${jsonencode({Statement = []})}' };
    const text = JSON.stringify({ resource: { aws_kms_key: keys } });
    expect(text.length).toBeGreaterThan(3_000_000);
    const r = inspectFile('big.tf.json', text);
    expect(r.facts).toEqual([]);
    expect(r.problems.map((p) => p.code)).toEqual([ProblemCode.FILE_TOO_LARGE]);
    const t0 = Date.now();
    const big = inspectFile('big.tf.json', text, { maxBytes: text.length + 1 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(big.problems).toEqual([]);
    expect(big.facts.length).toBe(40_000);
  });
});
