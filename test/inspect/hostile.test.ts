/**
 * Hostile input: bounded work and no exception out of `inspectFile`/`inspectFiles`, ever. A file
 * over the size cap, nesting a million levels deep, YAML alias bombs, locals that double a value
 * forty times, cycles, module fan-out: each ends as a typed Problem (or unknown values), at a line
 * and column, and the other files are still read. No timed assertions: speed is for `bench/`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectFile, inspectFiles, type InspectResult } from '../../src/inspect/index.js';
import { parseHcl } from '../../src/inspect/hcl.js';
import { factNamed, fixtureFiles } from './helpers.js';

const MB = 1024 * 1024;
const codes = (r: InspectResult): string[] => r.problems.map((p) => p.code);

describe('size and content', () => {
  it('a 5 MB file is a problem, not read; the other files still are', () => {
    const big = `resource "aws_kms_key" "k" {\n  description = "${'x'.repeat(5 * MB)}"\n}\n`;
    const r = inspectFiles([
      { path: 'big.tf', text: big },
      { path: 'ok/main.tf', text: 'resource "aws_kms_key" "ok" {\n  enable_key_rotation = true\n}\n' },
    ]);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'file-too-large', file: 'big.tf', line: 1, column: 1 })]);
    expect(r.facts.map((f) => f.name)).toEqual(['aws_kms_key.ok']);
  });

  it('a file just under the cap with thousands of keys is read in one linear pass', () => {
    const one = (i: number) => `resource "aws_kms_key" "k${i}" {\n  enable_key_rotation     = true\n  deletion_window_in_days = ${7 + (i % 24)}\n  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = { AWS = "arn:aws:iam::111122223333:root" }, Action = "kms:*", Resource = "*" }] })\n}\n`;
    let text = '';
    let n = 0;
    while (text.length < 1.9 * MB) text += one(n++);
    const r = inspectFile('many.tf', text);
    expect(r.problems).toEqual([]);
    expect(r.facts).toHaveLength(n);
  });

  it('a NUL byte means binary: a problem, not read', () => {
    expect(codes(inspectFile('x.tf', 'a = 1\u0000'))).toEqual(['binary-content']);
  });
});

describe('HCL nesting and chains', () => {
  const opts = { maxBytes: 8 * MB };
  it.each([
    ['a million nested braces', () => `a = ${'{x='.repeat(1e6)}1${'}'.repeat(1e6)}\n`],
    ['a million nested brackets', () => `a = ${'['.repeat(1e6)}${']'.repeat(1e6)}\n`],
    ['a million unclosed braces', () => `a = ${'{'.repeat(1e6)}`],
    ['a million nested blocks', () => `${'b {\n'.repeat(1e6)}${'}\n'.repeat(1e6)}`],
    ['a million nested calls', () => `a = ${'f('.repeat(1e6)}${')'.repeat(1e6)}\n`],
    ['a million unary operators', () => `a = ${'!'.repeat(1e6)}true\n`],
    ['a million nested interpolations', () => `a = ${'"${'.repeat(2e5)}${'}"'.repeat(2e5)}\n`],
  ])('%s: a too-deep problem at its line and column', (_name, make) => {
    const r = inspectFile('deep.tf', make(), opts);
    expect(r.facts).toEqual([]);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'hcl-too-deep', line: expect.any(Number), column: expect.any(Number) })]);
  });

  it('a chain of a hundred thousand operators is refused, not a deep tree', () => {
    expect(parseHcl(`a = ${Array(1e5).fill('1').join(' + ')}\n`).error).toMatchObject({ code: 'hcl-too-deep' });
  });

  it.each([
    ['many unclosed heredocs', () => 'a = <<EOT\n'.repeat(1e5)],
    ['many unclosed strings', () => 'a = "\n'.repeat(1e5)],
    ['many unclosed comments', () => '/*'.repeat(1e6)],
    ['a long traversal', () => `a = var${'.x'.repeat(5e5)}\n`],
  ])('%s: one syntax problem, linear', (_name, make) => {
    const r = inspectFile('bad.tf', make(), opts);
    expect(r.problems.length).toBeLessThanOrEqual(1);
  });
});

describe('evaluation bombs', () => {
  it('locals that double a list forty times exhaust a budget, not the machine', () => {
    const locals = Array.from({ length: 40 }, (_, i) => `  l${i} = concat(local.l${i + 1}, local.l${i + 1})`).join('\n');
    const text = `locals {\n${locals}\n  l40 = ["kms:*"]\n}\nresource "aws_kms_key" "k" {\n  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = local.l0 }] })\n}\n`;
    const r = inspectFile('bomb.tf', text);
    expect(factNamed(r, 'key', 'aws_kms_key.k').policy).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/budget/), line: 45 });
    expect(codes(r)).toContain('evaluation-budget');
  });

  it('locals that double a string forty times exhaust a budget too', () => {
    const locals = Array.from({ length: 40 }, (_, i) => `  s${i} = "\${local.s${i + 1}}\${local.s${i + 1}}"`).join('\n');
    const r = inspectFile('bomb.tf', `locals {\n${locals}\n  s40 = "abcdefgh"\n}\nresource "aws_kms_alias" "a" {\n  name = local.s0\n}\n`);
    expect(factNamed(r, 'alias', 'aws_kms_alias.a').aliasName).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/budget/) });
  });

  it('a chain of ten thousand locals is unknown past a depth, not a stack overflow', () => {
    const locals = Array.from({ length: 10_000 }, (_, i) => `  l${i} = local.l${i + 1}`).join('\n');
    const r = inspectFile('chain.tf', `locals {\n${locals}\n  l10000 = 7\n}\nresource "aws_kms_key" "k" {\n  deletion_window_in_days = local.l0\n}\n`);
    expect(factNamed(r, 'key', 'aws_kms_key.k').deletionWindowDays).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/more than 64 references/) });
  });

  it('module calls that fan out exponentially stop at the instance budget', () => {
    const files = Array.from({ length: 20 }, (_, i) => ({
      path: `m${i}/main.tf`,
      text: i === 19 ? 'resource "aws_kms_key" "k" {}\n' : `module "a" {\n  source = "../m${i + 1}"\n}\nmodule "b" {\n  source = "../m${i + 1}"\n}\n`,
    }));
    const r = inspectFiles(files);
    expect(r.facts.length).toBeLessThanOrEqual(256);
    expect(codes(r)).toContain('evaluation-budget');
  });
});

describe('YAML', () => {
  it('a billion-laughs alias bomb is refused before parsing', () => {
    let text = 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata:\n  a0: &a0 ["lol"]\n';
    for (let i = 1; i < 40; i++) text += `  a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
    const r = inspectFile('bomb.yaml', text);
    expect(r.problems).toEqual([expect.objectContaining({ code: 'yaml-alias-limit', file: 'bomb.yaml', line: expect.any(Number) })]);
  });

  it('an alias bomb under the alias cap expands within the node budget', () => {
    let text = 'AWSTemplateFormatVersion: "2010-09-09"\nx0: &a0 {Effect: Allow, Principal: "*", Action: "kms:*"}\n';
    for (let i = 1; i < 9; i++) text += `x${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    text += 'Resources:\n  K:\n    Type: AWS::KMS::Key\n    Properties:\n      KeyPolicy:\n        Statement: *a8\n';
    const r = inspectFile('bomb.yaml', text);
    const key = factNamed(r, 'key', 'K');
    expect(key.policy.state).not.toBe('known');
  });

  it.each([
    ['a million nested flow sequences', () => `a: ${'['.repeat(1e6)}${']'.repeat(1e6)}\napiVersion: v1\nkind: Secret\n`],
    ['ten thousand levels of indentation', () => `apiVersion: v1\nkind: Secret\ndata:\n${Array.from({ length: 1e4 }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')}\n`],
    ['a hundred thousand nested dashes', () => `apiVersion: v1\nkind: Secret\ndata:\n${'- '.repeat(1e5)}x\n`],
  ])('%s: a too-deep problem', (_name, make) => {
    const r = inspectFile('deep.yaml', make(), { maxBytes: 64 * MB });
    expect(codes(r)).toEqual(['yaml-too-deep']);
  });
});

describe('never a throw', () => {
  const fixtures = fixtureFiles('').filter((f) => !f.path.endsWith('.md'));

  it('every prefix cut of every fixture gives facts and problems, never an exception', () => {
    for (const f of fixtures) {
      const step = Math.max(1, Math.floor(f.text.length / 60));
      for (let cut = 0; cut < f.text.length; cut += step) {
        const r = inspectFile(f.path, f.text.slice(0, cut));
        for (const p of r.problems) {
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.column).toBeGreaterThanOrEqual(1);
        }
      }
    }
  });

  it('arbitrary text in any supported extension', () => {
    fc.assert(
      fc.property(fc.constantFrom('a.tf', 'a.yaml', 'a.json', 'a.template', 'terraform.tfvars'), fc.string({ unit: 'binary', maxLength: 300 }), (file, text) => {
        const r = inspectFile(file, text);
        expect(Array.isArray(r.facts) && Array.isArray(r.problems)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fixture fragments spliced together', () => {
    const pieces = fixtures.flatMap((f) => f.text.split('\n'));
    fc.assert(
      fc.property(fc.constantFrom('a.tf', 'a.yaml'), fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (file, lines) => {
        inspectFile(file, lines.join('\n'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('linear time on long lines', () => {
  it('a hundred thousand block comments on one line inside a block', () => {
    const r = inspectFile('c.tf', `resource "aws_kms_key" "k" {\n  enable_key_rotation = true ${'/* c */ '.repeat(1e5)}\n}\n`);
    expect(r.problems).toEqual([]);
    expect(r.facts).toHaveLength(1);
  });
});
