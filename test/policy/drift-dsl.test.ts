/**
 * `drift:` in the policy DSL: how often the App compares the default branch's declared keys with
 * the live KMS. YAML and the builder give the same AST; too often (under an hour) or not a
 * duration is a problem at its line; a policy that extends another inherits its schedule.
 */
import { describe, expect, it } from 'vitest';
import { definePolicy } from '../../src/policy/dsl/define-policy.js';
import { mergePolicies } from '../../src/policy/dsl/merge.js';
import { validatePolicy } from '../../src/policy/dsl/parse.js';
import { ast } from './helpers.js';

describe('drift: in the policy', () => {
  it('reads the interval, in YAML and from the builder alike', () => {
    const yaml = ast('version: 1\nname: d\ndrift:\n  every: 24h\n');
    expect(yaml.drift).toMatchObject({ every: { value: '24h', loc: { line: 4 } }, everyMs: 86_400_000 });
    expect(definePolicy({ version: 1, name: 'd', drift: { every: '7d' } }).drift?.everyMs).toBe(7 * 86_400_000);
  });

  it('refuses an interval under an hour or over a year, or one that is not a duration, at its line', () => {
    for (const [every, code] of [['0h', 'drift-interval'], ['2y', 'drift-interval'], ['soon', undefined]] as const) {
      const r = validatePolicy(`version: 1\nname: d\ndrift:\n  every: ${every}\n`, { file: 'p.yml' });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.errors[0]!.location).toMatchObject({ file: 'p.yml', line: 4 });
      if (code) expect(JSON.stringify(r.errors[0]!.toJSON())).toContain(code);
    }
    expect(validatePolicy('version: 1\nname: d\ndrift: {}\n').ok).toBe(false);
  });

  it('is inherited through extends unless the child sets its own', () => {
    const parent = ast('version: 1\nname: org\ndrift: { every: 12h }\n');
    expect(mergePolicies(parent, ast('version: 1\nname: repo\n')).drift?.everyMs).toBe(12 * 3_600_000);
    expect(mergePolicies(parent, ast('version: 1\nname: repo\ndrift: { every: 2d }\n')).drift?.everyMs).toBe(2 * 86_400_000);
  });
});
