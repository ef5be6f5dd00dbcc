/**
 * Incremental evaluation (src/policy/engine/incremental.ts) gives exactly the decision a full
 * evaluation gives: random streams of inputs (time moving forwards, backwards and onto every kind
 * of breakpoint; findings, keys, facts and files added, changed, duplicated and removed; fields the
 * rules do not read changed; branch, visibility and the key inventory switched) are judged by both
 * and compared decision by decision, on the bench policy (every DSL feature) and the fixture policy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchInput } from '../../bench/policy/input.js';
import { isKeywardenError } from '../../src/errors.js';
import { compilePolicy, PARTIAL_CONTEXT } from '../../src/policy/compile/compile-policy.js';
import { parsePolicy } from '../../src/policy/dsl/parse.js';
import type { PolicyError } from '../../src/policy/dsl/policy-error.js';
import { readPolicy } from '../../src/policy/engine/load.js';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/engine/policy-engine.js';
import { engine, FIXTURES, opa, ROOT } from './helpers.js';

const DAY = 86_400_000;
const RUNS = Number(process.env.KEYWARDEN_INCREMENTAL_RUNS ?? 60);
type Json = Record<string, unknown>;
const clone = <T>(x: T): T => structuredClone(x);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A smaller estate cut from the bench input, keeping every kind of key, finding, fact and file. */
function estate(): Json {
  const b = benchInput();
  const every = <T>(xs: T[], n: number, extra: (i: number) => boolean = () => false): T[] => xs.filter((_, i) => i % n === 0 || extra(i));
  return {
    ...b,
    keys: every(b.keys as Json[], 5, (i) => i % 10 === 7),
    findings: every(b.findings as Json[], 6, (i) => i >= 80),
    facts: every(b.facts as Json[], 3, (i) => i === 10 || i === 21 || i === 41),
    repo: { ...(b.repo as Json), files: every((b.repo as { files: string[] }).files, 8, (i) => i === 42 || i === 77) },
  };
}

/** One step of a stream: a change to the input, or to how keys are handed over. */
type Step =
  | { op: 'time'; ms: number }
  | { op: 'breakpoint'; which: number; offset: -1 | 0 | 1 }
  | { op: 'branch'; branch: string | undefined }
  | { op: 'visibility'; visibility: 'public' | 'private' | 'internal' | undefined }
  | { op: 'finding'; at: number; change: 'type' | 'file' | 'line' | 'unread' | 'fingerprint' | 'duplicate' | 'remove' | 'add'; pick: number }
  | { op: 'key'; at: number; change: 'rotate' | 'spec' | 'auto' | 'grant' | 'window' | 'alias' | 'duplicate' | 'remove'; pick: number }
  | { op: 'fact'; at: number; change: 'source' | 'line' | 'key' | 'remove'; pick: number }
  | { op: 'file'; at: number; change: 'add-forbidden' | 'add' | 'remove'; pick: number }
  | { op: 'inventory'; on: boolean };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('time' as const), ms: fc.oneof(fc.integer({ min: 1, max: 3_600_000 }), fc.integer({ min: DAY / 2, max: 3 * DAY }), fc.integer({ min: -40 * DAY, max: 800 * DAY })) }),
  fc.record({ op: fc.constant('breakpoint' as const), which: fc.nat(), offset: fc.constantFrom(-1 as const, 0 as const, 1 as const) }),
  fc.record({ op: fc.constant('branch' as const), branch: fc.constantFrom('main', 'dev', 'feature/a', 'feature/b', undefined) }),
  fc.record({ op: fc.constant('visibility' as const), visibility: fc.constantFrom('public' as const, 'private' as const, 'internal' as const, undefined) }),
  fc.record({
    op: fc.constant('finding' as const),
    at: fc.nat(),
    change: fc.constantFrom('type' as const, 'file' as const, 'line' as const, 'unread' as const, 'fingerprint' as const, 'duplicate' as const, 'remove' as const, 'add' as const),
    pick: fc.nat(),
  }),
  fc.record({
    op: fc.constant('key' as const),
    at: fc.nat(),
    change: fc.constantFrom('rotate' as const, 'spec' as const, 'auto' as const, 'grant' as const, 'window' as const, 'alias' as const, 'duplicate' as const, 'remove' as const),
    pick: fc.nat(),
  }),
  fc.record({ op: fc.constant('fact' as const), at: fc.nat(), change: fc.constantFrom('source' as const, 'line' as const, 'key' as const, 'remove' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('file' as const), at: fc.nat(), change: fc.constantFrom('add-forbidden' as const, 'add' as const, 'remove' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('inventory' as const), on: fc.boolean() }),
);

const of = <T>(xs: readonly T[], n: number): T => xs[n % xs.length] as T;

/** Times where some part of a decision changes: exception expiries, keys crossing a max-age, whole days of age. */
function breakpoints(input: Json, expires: readonly number[], ages: readonly number[]): number[] {
  const out = [...expires];
  for (const k of input.keys as Json[]) {
    const r = Date.parse(String(k.lastRotatedAt ?? k.createdAt));
    if (Number.isNaN(r)) continue;
    for (const a of ages) out.push(r + a, r + a + DAY);
  }
  return out;
}

function apply(input: Json, s: Step, bps: readonly number[]): void {
  const findings = input.findings as Json[];
  const keys = input.keys as Json[];
  const facts = input.facts as Json[];
  const files = (input.repo as { files: string[] }).files;
  const nowMs = Date.parse(String(input.now));
  switch (s.op) {
    case 'time':
      input.now = iso(Math.max(0, nowMs + s.ms));
      return;
    case 'breakpoint':
      if (bps.length > 0) input.now = iso(of(bps, s.which) + s.offset);
      return;
    case 'branch':
      input.event = s.branch === undefined ? { kind: 'push' } : { kind: 'push', branch: s.branch };
      return;
    case 'visibility':
      input.repo = { ...(input.repo as Json), visibility: s.visibility };
      if (s.visibility === undefined) delete (input.repo as Json).visibility;
      return;
    case 'finding': {
      if (s.change === 'add' || findings.length === 0) {
        findings.push({ ruleId: 'x', type: of(['aws-access-key', 'private-key', 'github-token', 'slack-token'], s.pick), title: `New ${s.pick}`, severity: 'high', file: `src/new-${s.pick % 7}.ts`, startLine: 1 + (s.pick % 50), startColumn: 1, fingerprint: `sha256:${(s.pick % 9).toString().repeat(64)}` });
        return;
      }
      const i = s.at % findings.length;
      const f = findings[i] as Json;
      if (s.change === 'type') f.type = of(['aws-access-key', 'private-key', 'github-token', 'slack-token', 'npm-token'], s.pick);
      if (s.change === 'file') f.file = of(['deploy/a.yaml', 'docs/examples/x.md', 'test/fixtures/secrets/y.txt', 'src/a.ts', 'a/__snapshots__/b.snap'], s.pick);
      if (s.change === 'line') f.startLine = 1 + (s.pick % 100);
      if (s.change === 'unread') Object.assign(f, of([{ commit: `c${s.pick}` }, { author: `a${s.pick}` }, { endLine: 1 + (s.pick % 9) }, { redacted: `r${s.pick % 10}` }, { confidence: 'low' }, { ruleId: `r${s.pick}` }], s.pick));
      if (s.change === 'fingerprint') f.fingerprint = `sha256:${of(['0', '1', '2', '3'], s.pick).repeat(64)}`;
      if (s.change === 'duplicate') findings.splice(s.pick % (findings.length + 1), 0, clone(f));
      if (s.change === 'remove') findings.splice(i, 1);
      return;
    }
    case 'key': {
      if (keys.length === 0) return;
      const i = s.at % keys.length;
      const k = keys[i] as Json;
      if (s.change === 'rotate') k.lastRotatedAt = iso(nowMs - (s.pick % 900) * DAY);
      if (s.change === 'spec') k.spec = of(['RSA_1024', 'RSA_2048', 'RSA_4096', 'ECC_NIST_P256', 'HMAC_128', '3DES', 'SYMMETRIC_DEFAULT'], s.pick);
      if (s.change === 'auto') k.rotation = { enabled: s.pick % 2 === 0, periodDays: of([30, 90, 365, 800, null], s.pick) };
      if (s.change === 'grant') k.access = [...((k.access as Json[]) ?? []), of([{ principal: '*', operations: ['kms:Decrypt'] }, { principal: 'arn:aws:iam::1:role/x', operations: ['kms:*'] }, { principal: 'arn:aws:iam::111122223333:role/KeyAdmin', operations: ['kms:Sign'] }], s.pick)];
      if (s.change === 'window') k.pendingWindowDays = of([7, 14, 30], s.pick);
      if (s.change === 'alias') k.aliases = [of(['alias/payments-9', 'alias/legacy-1', 'alias/app-67', 'alias/other'], s.pick)];
      if (s.change === 'duplicate') keys.push(clone(k));
      if (s.change === 'remove') keys.splice(i, 1);
      return;
    }
    case 'fact': {
      if (facts.length === 0) return;
      const i = s.at % facts.length;
      const f = facts[i] as Json;
      if (s.change === 'source') f.source = of(['env', 'inline', 'kms', 'vault'], s.pick);
      if (s.change === 'line') f.line = 1 + (s.pick % 30);
      if (s.change === 'key') facts.push({ kind: 'key', file: 'infra/x.tf', line: 1 + (s.pick % 5), key: { id: `k${s.pick % 3}`, aliases: ['alias/payments-x'], spec: of(['RSA_2048', 'RSA_1024'], s.pick), lastRotatedAt: iso(nowMs - (s.pick % 500) * DAY) } });
      if (s.change === 'remove') facts.splice(i, 1);
      return;
    }
    case 'file':
      if (s.change === 'add-forbidden') files.push(of(['a/b.pem', '.env', 'x/.env', 'k.jks'], s.pick));
      if (s.change === 'add') files.push(`src/f-${s.pick % 20}.ts`);
      if (s.change === 'remove' && files.length > 0) files.splice(s.at % files.length, 1);
      return;
    case 'inventory':
      return;
  }
}

async function check(inc: PolicyEngine, full: PolicyEngine, start: Json, runs: number): Promise<void> {
  expect(inc.incremental).toBe(true);
  expect(full.incremental).toBe(false);
  const { expiresMs, keyAgesMs } = inc.compiled.partial;
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 12 }), (steps) => {
      const input = clone(start);
      let inventory = false;
      inc.setKeyInventory(undefined);
      for (const s of steps) {
        if (s.op === 'inventory') inventory = s.on;
        apply(input, s, breakpoints(input, expiresMs, keyAgesMs));
        const expected = full.evaluate(input);
        let got;
        if (inventory) {
          inc.setKeyInventory(input.keys as never);
          const { keys: _k, ...rest } = input;
          got = inc.evaluate(clone(rest));
        } else {
          inc.setKeyInventory(undefined);
          got = inc.evaluate(clone(input));
        }
        expect(got).toEqual(expected);
      }
    }),
    { numRuns: runs, seed: Number(process.env.KEYWARDEN_FUZZ_SEED ?? 20261128) },
  );
}

describe('incremental evaluation equals full evaluation', () => {
  let benchInc: PolicyEngine;
  let benchFull: PolicyEngine;
  beforeAll(async () => {
    const ast = parsePolicy(readFileSync(join(ROOT, 'bench/policy/policy.yml'), 'utf8'), { file: 'bench/policy/policy.yml' });
    benchInc = await createPolicyEngine({ ast, opa: opa(), cacheDir: false });
    benchFull = await createPolicyEngine({ ast, opa: opa(), cacheDir: false, incremental: false });
  });

  it('on the bench policy, over random streams of inputs', async () => {
    await check(benchInc, benchFull, estate(), RUNS);
  }, 300_000);

  it('with tiny caches (items and contexts dropped all the time), over random streams of inputs', async () => {
    const tiny = await createPolicyEngine({ ast: benchFull.ast, opa: opa(), cacheDir: false, incremental: { maxItems: 4, maxContexts: 1 } });
    await check(tiny, benchFull, estate(), Math.ceil(RUNS / 3));
  }, 300_000);

  it('on the fixture policy, over random streams of inputs', async () => {
    const ast = await readPolicy('test/fixtures/policy/full.yml', { cwd: ROOT });
    const inc = await createPolicyEngine({ ast, opa: opa(), cacheDir: false });
    const full = await createPolicyEngine({ ast, opa: opa(), cacheDir: false, incremental: false });
    const fixture = JSON.parse(readFileSync(join(FIXTURES, 'input.json'), 'utf8')) as Json;
    await check(inc, full, { ...fixture, repo: { files: [], ...(fixture.repo as Json) }, keys: fixture.keys ?? [], facts: fixture.facts ?? [], findings: fixture.findings ?? [] }, Math.ceil(RUNS / 2));
  }, 300_000);

  it('evaluates only what is new: repeated inputs, a new branch judged like a known one, one changed finding', async () => {
    // A fresh engine (the build is cached): nothing judged yet.
    const benchInc = await createPolicyEngine({ ast: benchFull.ast, opa: opa(), cacheDir: false });
    const input = estate();
    const items = (input.keys as Json[]).length + (input.findings as Json[]).length + (input.facts as Json[]).length + (input.repo as { files: string[] }).files.length;
    const at = (branch: string, findings = input.findings): Json => clone({ ...input, findings, event: { kind: 'push', branch } });
    benchInc.evaluate(at('feature/one'));
    benchInc.evaluate(at('feature/one'));
    expect(benchInc.lastItems).toEqual({ evaluated: 0, reused: items });
    // Another branch that no leak rule tells from feature/one: nothing to evaluate.
    expect(benchInc.evaluate(at('feature/two'))).toEqual(benchFull.evaluate(at('feature/two')));
    expect(benchInc.lastItems).toEqual({ evaluated: 0, reused: items });
    // main is judged differently (a leak rule is for main only): findings again, keys, facts, files not.
    benchInc.evaluate(at('main'));
    expect(benchInc.lastItems.evaluated).toBe((input.findings as Json[]).length);
    // One finding moved: only it.
    const moved = clone(input.findings as Json[]);
    (moved[3] as Json).startLine = 999;
    expect(benchInc.evaluate(at('main', moved))).toEqual(benchFull.evaluate(at('main', moved)));
    expect(benchInc.lastItems.evaluated).toBe(1);
  });

  it('reports bad items exactly as a full evaluation does, cached or not', () => {
    const input = estate();
    benchInc.evaluate(input);
    const bad = clone(input);
    (bad.findings as Json[])[1] = { ...(bad.findings as Json[])[1], startLine: 0, commit: 5 };
    (bad.keys as Json[])[0] = { ...(bad.keys as Json[])[0], createdAt: 'yesterday' };
    const problems = (e: PolicyEngine): string[] => {
      try {
        e.evaluate(bad);
      } catch (err) {
        expect(isKeywardenError(err)).toBe(true);
        return (err as PolicyError).problems.map((p) => p.message).sort();
      }
      throw new Error('no error');
    };
    expect(problems(benchInc)).toEqual(problems(benchFull));
    expect(problems(benchInc).length).toBe(3);
  });

  it('is off with custom modules, which may read anything', async () => {
    const e = await engine('version: 1\nname: p\n', [{ path: 'policies/x.rego', text: 'package keywarden.custom.x\n\nviolations := set()\n\nactions := set()\n' }]);
    expect(e.incremental).toBe(false);
  });
});

describe('the compiler keeps the promises incremental evaluation relies on', () => {
  const policies = [readFileSync(join(ROOT, 'bench/policy/policy.yml'), 'utf8'), readFileSync(join(FIXTURES, 'full.yml'), 'utf8')];
  it('rules read the event and the repo only in _leak<i>_applies, and never input.now', () => {
    for (const text of policies) {
      const { rego } = compilePolicy(parsePolicy(text, { file: 'policy.yml' }));
      // Split into top-level rules (blank-line separated blocks) and look at each one's reads.
      for (const block of rego.split('\n\n')) {
        const head = block.split('\n').find((l) => !l.startsWith('#')) ?? '';
        const reads = [...block.matchAll(/input\.(event|repo)(\.\w+)*/g)].map((m) => m[0]).filter((r) => r !== 'input.repo.files');
        if (reads.length > 0) {
          expect(head).toMatch(/^(default )?_leak\d+_applies/);
          for (const r of reads) expect(PARTIAL_CONTEXT.map((p) => `input.${p}`)).toContain(r);
        }
        expect(block).not.toMatch(/input\.now\b(?!Ms)/);
      }
    }
  });
});

describe('sameJson: equality as JSON.stringify sees it', () => {
  it('treats undefined properties as absent, compares arrays in order and non-plain objects by their JSON', async () => {
    const { sameJson } = await import('../../src/policy/engine/incremental.js');
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: [1, { c: 'x' }] }, { a: [1, { c: 'x' }] })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson({ a: '1' }, { a: 1 })).toBe(false);
    expect(sameJson([1], { 0: 1 })).toBe(false);
    expect(sameJson({ d: new Date(0) }, { d: new Date(0) })).toBe(true);
    expect(sameJson({ d: new Date(0) }, { d: new Date(1) })).toBe(false);
    expect(sameJson({ n: Number.NaN }, { n: Number.NaN })).toBe(false);
  });
});
