/**
 * The published JSON Schemas (schemas/policy|input|decision.schema.json) are exactly the ones the
 * code validates with; under CI a stale or missing file fails. Fixtures are checked against them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { POLICY_SCHEMA } from '../../src/policy/dsl/schema.js';
import { DECISION_SCHEMA, INPUT_SCHEMA, prepareInput, specInfo } from '../../src/policy/input.js';
import { FIXTURES } from './helpers.js';

const text = (o: unknown): string => `${JSON.stringify(o, null, 2)}\n`;

describe('published schemas', () => {
  it('schemas/policy.schema.json', async () => {
    await expect(text(POLICY_SCHEMA)).toMatchFileSnapshot('../../schemas/policy.schema.json');
  });
  it('schemas/input.schema.json', async () => {
    await expect(text(INPUT_SCHEMA)).toMatchFileSnapshot('../../schemas/input.schema.json');
  });
  it('schemas/decision.schema.json', async () => {
    await expect(text(DECISION_SCHEMA)).toMatchFileSnapshot('../../schemas/decision.schema.json');
  });

  it('pass the meta-schema and strict mode as Keywarden compiles them (which skips the meta-schema check at run time)', () => {
    const strict = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, validateSchema: true });
    for (const s of [POLICY_SCHEMA, INPUT_SCHEMA, DECISION_SCHEMA]) expect(strict.validateSchema(s as object), JSON.stringify(strict.errors)).toBe(true);
    expect(() => [POLICY_SCHEMA, INPUT_SCHEMA, DECISION_SCHEMA].map((s) => strict.compile(s as object))).not.toThrow();
  });

  it('are valid draft-07 schemas that a stock validator (as editors use) accepts', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(POLICY_SCHEMA);
    const yaml = readFileSync(join(FIXTURES, 'full.yml'), 'utf8');
    expect(yaml.split('\n')[0]).toContain('yaml-language-server: $schema=');
    expect(ajv.compile(INPUT_SCHEMA)(JSON.parse(readFileSync(join(FIXTURES, 'input.json'), 'utf8')))).toBe(true);
    expect(validate({ version: 1, keys: [{ name: 'x', rotation: { 'max-age': '90 days' } }] })).toBe(false);
  });

  it('input preparation adds what the Rego reads', () => {
    const p = prepareInput({ now: '2026-01-01T00:00:00Z', keys: [{ id: 'k', backend: 'local', spec: 'RSA_3072', createdAt: '2025-01-01T00:00:00Z' }] }) as { nowMs: number; keys: Array<Record<string, unknown>> };
    expect(p.nowMs).toBe(Date.UTC(2026, 0, 1));
    expect(p.keys[0]).toMatchObject({ aliases: [], labels: [], tags: {}, access: [], rotatedAtMs: Date.UTC(2025, 0, 1), specFamily: 'RSA', specBits: 3072 });
    expect(['ECC_NIST_P384', 'HMAC_512', 'SYMMETRIC_DEFAULT', 'DES3', 'ECC_SECG_P256K1', 'AES_128', 'ML_DSA_65'].map(specInfo)).toEqual([
      { family: 'ECC', bits: 384 },
      { family: 'HMAC', bits: 512 },
      { family: 'AES', bits: 256 },
      { family: '3DES', bits: 112 },
      { family: 'ECC', bits: 256 },
      { family: 'AES', bits: 128 },
      { family: 'ML' },
    ]);
  });
});
