/**
 * The key inventory kept in wasm memory (`setKeyInventory`) is judged exactly as the same keys in
 * `input.keys` would be, custom modules included, across many evaluations and replacements.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPolicy } from '../../src/policy/engine/load.js';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/engine/policy-engine.js';
import { prepareInput } from '../../src/policy/input.js';
import { engine, FIXTURES, key, NOW, opa, ROOT } from './helpers.js';

const fixture = (): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, 'input.json'), 'utf8')) as Record<string, unknown>;
const withoutKeys = (i: Record<string, unknown>): Record<string, unknown> => {
  const { keys: _k, ...rest } = i;
  return rest;
};

describe('key inventory resident in wasm memory', () => {
  let e: PolicyEngine;
  beforeAll(async () => {
    e = await createPolicyEngine({ ast: await readPolicy('test/fixtures/policy/full.yml', { cwd: ROOT }), opa: opa(), cacheDir: false });
  });

  it('judges the inventory as it judges input.keys, evaluation after evaluation', () => {
    const input = fixture();
    const expected = e.evaluate(input);
    expect(expected.violations.some((v) => v.subject.kind === 'key')).toBe(true);
    e.setKeyInventory(input.keys as never);
    for (let i = 0; i < 50; i++) expect(e.evaluate(withoutKeys(input))).toEqual(expected);
    // Prepared inputs too: without keys, the inventory; with keys, their own.
    const prepared = prepareInput(withoutKeys(input));
    delete prepared.keys;
    expect(e.evaluatePrepared(prepared)).toEqual(expected);
    e.setKeyInventory(undefined);
  });

  it('input.keys wins over the inventory, and leaves it intact', () => {
    const input = fixture();
    const expected = e.evaluate(input);
    const none = e.evaluate({ ...input, keys: [] });
    e.setKeyInventory(input.keys as never);
    expect(e.evaluate({ ...input, keys: [] })).toEqual(none);
    expect(e.evaluate(withoutKeys(input))).toEqual(expected);
    e.setKeyInventory(undefined);
  });

  it('replacing or forgetting the inventory changes what is judged', () => {
    const input = fixture();
    e.setKeyInventory([key({ id: 'only', aliases: ['alias/payments-x'], rotation: { enabled: false } })] as never);
    const d = e.evaluate(withoutKeys(input));
    expect(new Set(d.violations.filter((v) => v.subject.kind === 'key').map((v) => v.subject.id))).toEqual(new Set(['only']));
    e.setKeyInventory(input.keys as never);
    expect(e.evaluate(withoutKeys(input))).toEqual(e.evaluate(input));
    e.setKeyInventory(undefined);
    expect(e.evaluate(withoutKeys(input)).violations.filter((v) => v.subject.kind === 'key')).toEqual([]);
  });

  it('rejects an invalid inventory with a typed error listing the problems, keeping none', () => {
    expect(() => e.setKeyInventory([{ id: 1 }, { backend: 'x', createdAt: 'yesterday' }] as never)).toThrow(
      expect.objectContaining({ code: 'KW_POLICY_EVAL', problems: expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining('input.keys[0]') })]) }),
    );
    const input = fixture();
    expect(e.evaluate(withoutKeys(input)).violations.filter((v) => v.subject.kind === 'key')).toEqual([]);
  });
});

describe('custom modules see the inventory as input.keys', () => {
  it('adds their violations for inventory keys', async () => {
    const e = await engine('version: 1\n', [
      {
        path: 'policies/no-test-keys.rego',
        text: `package keywarden.custom.no_test_keys

violations contains {"rule": "custom/no-test-keys", "message": "test key", "severity": "low", "policy": {"path": ""}, "subject": {"kind": "key", "id": k.id}} if {
	some k in input.keys
	startswith(k.id, "test-")
}
`,
      },
    ]);
    e.setKeyInventory([key({ id: 'test-1' }), key({ id: 'prod-1' })] as never);
    expect(e.evaluate({ now: NOW }).violations.map((v) => v.subject.id)).toEqual(['test-1']);
    expect(e.evaluate({ now: NOW, keys: [key({ id: 'test-2' })] }).violations.map((v) => v.subject.id)).toEqual(['test-2']);
  });
});
