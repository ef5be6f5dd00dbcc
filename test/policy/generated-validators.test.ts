/**
 * The schema validators are ajv standalone code generated at build time
 * (scripts/generate-validators.ts → src/policy/generated/). They must be what the schemas generate
 * now (a schema edited without `npm run build` fails here), and they must judge exactly as the
 * same schemas compiled at run time: same verdict, same error objects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, generateValidators } from '../../scripts/generate-validators.js';
import { POLICY_SCHEMA } from '../../src/policy/dsl/schema.js';
import { validatePolicySchema } from '../../src/policy/generated/validate-policy-schema.js';
import * as inputValidators from '../../src/policy/generated/validate-input-schemas.js';
import { DECISION_SCHEMA, INPUT_ITEM_SCHEMAS, INPUT_SCHEMA, INPUT_TOP_SCHEMA } from '../../src/policy/input-schema.js';
import { FIXTURES, ROOT } from './helpers.js';

describe('generated schema validators', () => {
  it('are what the schemas generate now (run `npm run build` after changing a schema)', () => {
    const generated = generateValidators();
    expect([...generated.keys()].map((f) => f.slice(GENERATED_DIR.length + 1)).sort()).toEqual(readdirSync(GENERATED_DIR).sort());
    for (const [file, text] of generated) expect(readFileSync(file, 'utf8'), `${file} is stale: run npm run build`).toBe(text);
  });

  it('give the same verdicts and error objects as the policy schema compiled at run time', () => {
    const compiled = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, validateSchema: false }).compile(POLICY_SCHEMA);
    const golden = join(ROOT, 'test/policy/golden');
    const policies: unknown[] = readdirSync(golden).flatMap((d) => {
      try {
        return [parse(readFileSync(join(golden, d, 'policy.yml'), 'utf8'), { maxAliasCount: 64 })];
      } catch {
        return [];
      }
    });
    policies.push(
      parse(readFileSync(join(FIXTURES, 'full.yml'), 'utf8')),
      { version: 2, keys: 'x', extra: true },
      { version: 1, keys: [{ name: 'Bad Name', rotation: { 'max-age': '90 days', required: 'yes' }, match: { alias: '' } }] },
      { version: 1, keys: [{ name: 'k', algorithms: { allow: ['AES_256', 'AES_256'] }, destroy: { 'pending-window': ['>= 7d', 'x'] } }] },
      'not an object',
      null,
    );
    expect(policies.length).toBeGreaterThan(8);
    for (const p of policies) expectSame(validatePolicySchema, compiled, p);
  });

  it('give the same verdicts and error objects as the input schemas compiled at run time', () => {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, validateSchema: false });
    const pairs: [ValidateFunction, object][] = [
      [inputValidators.validateInputSchema, INPUT_SCHEMA],
      [inputValidators.validateInputTop, INPUT_TOP_SCHEMA],
      [inputValidators.validateKeyItem, INPUT_ITEM_SCHEMAS.keys],
      [inputValidators.validateFindingItem, INPUT_ITEM_SCHEMAS.findings],
      [inputValidators.validateFactItem, INPUT_ITEM_SCHEMAS.facts],
      [inputValidators.validateDecision, DECISION_SCHEMA],
    ];
    const fixture: unknown = JSON.parse(readFileSync(join(FIXTURES, 'input.json'), 'utf8'));
    const samples: unknown[] = [
      fixture,
      { now: 'yesterday', repo: { visibility: 'secret', files: [1] }, event: { pullRequest: 1.5 }, keys: [{}], findings: [{ startLine: 0 }], facts: [{ kind: 'key', line: 0 }] },
      { id: 'k', backend: 'aws-kms', rotation: {}, lastRotatedAt: 'x', access: [{ principal: 1 }], tags: { a: 1 } },
      { ruleId: 'r', type: 't', title: 't', severity: 'urgent', file: 'f', startLine: 1, startColumn: 1, fingerprint: 'sha256:00', redacted: 'x'.repeat(17), identity: { kind: '🔑'.repeat(40) } },
      { kind: 'key', file: 'main.tf', line: 1, key: { spec: 3 } },
      { violations: [{ rule: 'r', message: 'm', severity: 'high', policy: { path: '/keys/0' }, subject: { kind: 'key' } }], actions: [{ type: 'nope' }], extra: 1 },
      [],
      'x',
    ];
    for (const [generated, schema] of pairs) {
      const compiled = ajv.compile(schema);
      for (const s of samples) expectSame(generated, compiled, s);
    }
  });
});

function expectSame(generated: ValidateFunction, compiled: ValidateFunction, data: unknown): void {
  const want = compiled(data);
  const wantErrors = structuredClone(compiled.errors);
  expect(generated(data), JSON.stringify(data)).toBe(want);
  expect(generated.errors).toEqual(wantErrors);
}
