/**
 * Property-based fuzzing of the policy front end with hostile input: random text, policy-shaped
 * documents with wrong types everywhere, alias bombs, deep nesting, huge files, tabs, NUL bytes,
 * duplicate keys, odd tags. The property: never a crash, never a foreign error: either a valid AST
 * (which then compiles) or typed `KW_POLICY_*` errors, each with file, line, column and a hint.
 *
 * 10,000 cases by default (the floor); set KEYWARDEN_FUZZ_RUNS for a quicker local run.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { isKeywardenError } from '../../src/errors.js';
import { compilePolicy } from '../../src/policy/compile/compile-policy.js';
import { validatePolicy, validatePolicyValue } from '../../src/policy/dsl/parse.js';

const RUNS = Number(process.env.KEYWARDEN_FUZZ_RUNS ?? 10_000);

const wrong = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const dur = fc.oneof(fc.constantFrom('90d', '1y', '12w', '36h', '0d', '90', 'd', '-5d', '1e3d', '999999d'), fc.string({ maxLength: 6 }));
const cmp = fc.oneof(fc.constantFrom('>= 14d', '<=30d', '> 7d', '== 1y', '=> 3d', '>= -1d'), fc.string({ maxLength: 8 }));
const glob = fc.oneof(fc.constantFrom('alias/*', '[a-z]*', '{a,b}', '[', '}', '\\', '**/x', ''), fc.string({ maxLength: 12 }));

const keyClass = fc.record(
  {
    name: fc.oneof(fc.constantFrom('k', 'k', 'Bad Name', ''), wrong),
    match: fc.oneof(fc.record({ alias: glob, id: maybe(glob), tags: maybe(fc.dictionary(fc.string({ maxLength: 5 }), glob, { maxKeys: 2 })) }, { requiredKeys: [] }), wrong),
    severity: fc.oneof(fc.constantFrom('high', 'urgent'), wrong),
    do: fc.oneof(fc.array(fc.constantFrom('revoke', 'rotate', 'explode'), { maxLength: 4 }), wrong),
    spec: fc.oneof(fc.record({ allow: fc.array(glob, { maxLength: 3 }), 'min-size': fc.oneof(fc.record({ RSA: fc.integer() }), wrong) }, { requiredKeys: [] }), wrong),
    rotation: fc.oneof(fc.record({ 'max-age': dur, automatic: fc.constantFrom('required', 'forbidden', 'yes'), period: fc.oneof(cmp, fc.array(cmp, { maxLength: 3 })) }, { requiredKeys: [] }), wrong),
    access: fc.oneof(fc.record({ admins: fc.array(glob, { maxLength: 2 }), forbid: fc.array(fc.constantFrom('wildcard-principal', 'kms:*', 'everyone'), { maxLength: 3 }), 'separate-duties': fc.oneof(fc.boolean(), wrong) }, { requiredKeys: [] }), wrong),
    destroy: fc.oneof(fc.record({ 'pending-window': fc.oneof(cmp, fc.array(cmp, { maxLength: 2 })) }), wrong),
  },
  { requiredKeys: [] },
);

const policyShaped = fc.record(
  {
    version: fc.oneof(fc.constant(1), wrong),
    name: fc.oneof(fc.constantFrom('acme', 'custom', 'x-y'), wrong),
    backend: fc.oneof(fc.record({ kind: fc.constantFrom('aws-kms', 'local', 'floppy') }), wrong),
    keys: fc.oneof(fc.array(keyClass, { maxLength: 4 }), wrong),
    secrets: fc.oneof(
      fc.record(
        {
          detectors: fc.array(fc.oneof(fc.constantFrom('recommended'), fc.record({ id: fc.string({ maxLength: 6 }), pattern: fc.oneof(fc.constantFrom('(', 'a+', '[z-a]'), fc.string({ maxLength: 8 })) }), wrong), { maxLength: 3 }),
          'on-leak': fc.array(fc.record({ when: fc.oneof(fc.record({ type: glob, visibility: fc.constantFrom('public', 'secret') }, { requiredKeys: [] }), wrong), do: fc.oneof(fc.array(fc.constantFrom('revoke', 'notify'), { maxLength: 2 }), wrong) }, { requiredKeys: [] }), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
      wrong,
    ),
    exceptions: fc.oneof(fc.array(fc.record({ key: maybe(glob), reason: fc.string(), owner: fc.string(), expires: fc.oneof(fc.constantFrom('2027-01-31', '2027-02-30', '0000-00-00'), fc.string({ maxLength: 10 })) }, { requiredKeys: [] }), { maxLength: 2 }), wrong),
  },
  { requiredKeys: [] },
);

const aliasBomb = fc.record({ levels: fc.integer({ min: 2, max: 12 }), width: fc.integer({ min: 2, max: 12 }) }).map(({ levels, width }) => {
  const lines = ['version: 1', 'l0: &l0 ["lol"]'];
  for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
});
const deep = fc.record({ n: fc.integer({ min: 30, max: 6000 }), kind: fc.constantFrom('flow-seq', 'flow-map', 'block-seq', 'block-map') }).map(({ n, kind }) => {
  switch (kind) {
    case 'flow-seq':
      return `version: 1\nkeys: ${'['.repeat(n)}${']'.repeat(n)}\n`;
    case 'flow-map':
      return `version: 1\nkeys: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`;
    case 'block-seq':
      return `version: 1\nkeys:\n${'- '.repeat(n)}x\n`;
    default:
      return `version: 1\n${Array.from({ length: Math.min(n, 400) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} 1\n`;
  }
});
const huge = fc.record({ n: fc.integer({ min: 200_000, max: 400_000 }), multi: fc.boolean() }).map(({ n, multi }) => (multi ? 'version: 1\nkeys:\n' + '  - name: k\n'.repeat(n / 12) : `version: 1\nname: "${'x'.repeat(n)}"\n`));
const mutated = fc.record({ base: policyShaped, cut: fc.nat(), insert: fc.constantFrom('\t', '\u0000', ': ', '- ', '&a ', '*a', '!!binary ', '<<: *a\n', '"', "'", '\n---\n', '%YAML 1.1\n', '? ', '{', ']', '#', '\ufeff', '\r') }).map(({ base, cut, insert }) => {
  const text = stringify(base);
  const at = text.length === 0 ? 0 : cut % text.length;
  return text.slice(0, at) + insert + text.slice(at);
});

/** Valid policies with random (but legal) content, so the property also exercises the compiler. */
const validPolicy = fc
  .array(
    fc.record({
      alias: fc.constantFrom('alias/a-*', 'alias/b', '*'),
      maxAge: fc.constantFrom('90d', '1y', '12w', '36h'),
      automatic: fc.constantFrom('required', 'optional', 'forbidden'),
      window: fc.constantFrom('>= 7d', '<= 30d', '== 14d'),
      forbid: fc.subarray(['wildcard-principal', 'kms:*', 'kms:Decrypt']),
      do: fc.subarray(['revoke', 'rotate', 'open-pr', 'open-issue', 'fail-check', 'notify']),
    }),
    { maxLength: 4 },
  )
  .map((ks) =>
    stringify({
      version: 1,
      keys: ks.map((k, i) => ({ name: `k${i}`, match: { alias: k.alias }, do: k.do.length > 0 ? k.do : undefined, rotation: { 'max-age': k.maxAge, automatic: k.automatic }, access: { forbid: k.forbid }, destroy: { 'pending-window': k.window } })),
      secrets: { 'on-leak': ks.map((k) => ({ when: { type: k.alias }, do: ['revoke'] })) },
    }),
  );

const hostileText = fc.oneof(
  { weight: 2, arbitrary: validPolicy },
  { weight: 3, arbitrary: policyShaped.map((p) => stringify(p)) },
  { weight: 3, arbitrary: mutated },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: aliasBomb },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.constantFrom('', '---', '~', '[]', 'version: 1\nversion: 1\n', 'version: !!str 1\n', 'version: 1\nkeys: !<tag:yaml.org,2002:js/function> "x"\n') },
);

function checkTyped(errors: readonly unknown[]): void {
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    expect(isKeywardenError(e)).toBe(true);
    if (!isKeywardenError(e)) return;
    expect(e.code).toMatch(/^KW_POLICY_(PARSE|INVALID|TOO_LARGE)$/);
    expect(e.location?.file).toBe('fuzz.yml');
    expect(e.location?.line).toBeGreaterThanOrEqual(1);
    expect(e.location?.column).toBeGreaterThanOrEqual(1);
    expect(e.hint).toBeTruthy();
  }
}

describe('fuzz: hostile policies get typed, located errors (never a crash or a hang)', () => {
  it(`${RUNS} generated documents`, { timeout: 600_000 }, () => {
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 30, arbitrary: hostileText }, { weight: 1, arbitrary: huge }), (text) => {
        const r = validatePolicy(text, { file: 'fuzz.yml' });
        if (r.ok) {
          valid++;
          expect(typeof compilePolicy(r.ast).rego).toBe('string');
        } else checkTyped(r.errors);
      }),
      { numRuns: RUNS, seed: Number(process.env.KEYWARDEN_FUZZ_SEED ?? 20260301) },
    );
    // The generators must reach the valid side too, or the property says little.
    expect(valid).toBeGreaterThan(0);
  });

  it('definePolicy values with wrong types everywhere never throw anything but typed errors', () => {
    fc.assert(
      fc.property(fc.oneof(policyShaped, fc.anything({ maxDepth: 3 })), (value) => {
        for (const e of validatePolicyValue(value, 'fuzz.ts')) {
          expect(isKeywardenError(e)).toBe(true);
          expect(e.code).toBe('KW_POLICY_INVALID');
          expect(e.hint).toBeTruthy();
        }
      }),
      { numRuns: Math.max(100, Math.floor(RUNS / 10)) },
    );
  });
});
