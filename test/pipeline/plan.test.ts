import { describe, expect, it } from 'vitest';
import type { Decision, DecisionAction } from '../../src/model/decision.js';
import type { Finding } from '../../src/model/finding.js';
import { planResponse, stepId } from '../../src/pipeline/plan.js';
import type { Target } from '../../src/pipeline/types.js';

const fp = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const finding = (n: number, over: Partial<Finding> = {}): Finding => ({
  ruleId: 'keywarden-local-key',
  type: 'keywarden-key',
  title: 't',
  severity: 'critical',
  confidence: 'high',
  file: `src/f${n}.ts`,
  startLine: 1,
  startColumn: 1,
  endLine: 1,
  endColumn: 10,
  fingerprint: fp(n),
  redacted: 'kwk_…abcd',
  ...over,
});
const action = (n: number, type: DecisionAction['type'], rule = 'leak-0', severity: DecisionAction['severity'] = 'critical'): DecisionAction => ({
  type,
  rule,
  severity,
  policy: { file: '.github/keywarden.yml', line: 20, column: 7, path: '/secrets/on-leak/0' },
  subject: { kind: 'finding', fingerprint: fp(n), type: 'keywarden-key' },
});
const key = (version = 1): Target => ({ kind: 'managed-key', backend: 'local', keyId: 'lk-1', version, aliases: ['payments'], revocable: 'version', how: 'material' });
const opts = { revokers: new Set<string>(['aws-iam']), canPatch: true as const, patchBase: 'abc' };

describe('planResponse', () => {
  it('orders revoke, then rotate, then one patch, whatever the order of the actions', () => {
    const decision: Decision = { violations: [], actions: [action(1, 'open-pr'), action(1, 'rotate'), action(1, 'revoke'), action(2, 'open-pr')] };
    const plan = planResponse(decision, [finding(1), finding(2)], new Map([[fp(1), key()]]), opts);
    expect(plan.steps.map((s) => s.kind)).toEqual(['revoke', 'rotate', 'patch']);
    expect(plan.steps[2]!.fingerprints.sort()).toEqual([fp(1), fp(2)]);
    expect(plan.notDone).toEqual([]);
  });

  it('revokes one credential once, however many files and encodings hold it', () => {
    const findings = Array.from({ length: 30 }, (_, i) => finding(1, { file: `f${i}.ts` }));
    const decision: Decision = { violations: [], actions: [action(1, 'revoke'), action(1, 'revoke', 'leak-1'), action(3, 'revoke')] };
    const plan = planResponse(decision, [...findings, finding(3)], new Map([[fp(1), key()], [fp(3), key()]]), opts);
    const revokes = plan.steps.filter((s) => s.kind === 'revoke');
    expect(revokes).toHaveLength(1);
    expect(revokes[0]!.fingerprints).toEqual([fp(1), fp(3)]);
  });

  it('gives the same step ids for the same leak however the scan ordered it, and different ids for another target', () => {
    const decision: Decision = { violations: [], actions: [action(1, 'revoke'), action(2, 'revoke')] };
    const targets = new Map<string, Target>([[fp(1), key(1)], [fp(2), key(2)]]);
    const a = planResponse(decision, [finding(1), finding(2)], targets, opts);
    const b = planResponse(decision, [finding(2), finding(1)], targets, opts);
    expect(a.steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
    expect(new Set(a.steps.map((s) => s.id)).size).toBe(2);
    expect(stepId('revoke', fp(1), 'x')).toMatch(/^kw1-[0-9a-f]{40}$/);
  });

  it('says why what cannot be done is not done, never drops it', () => {
    const decision: Decision = {
      violations: [],
      actions: [action(1, 'revoke'), action(2, 'revoke'), action(3, 'rotate'), action(4, 'open-issue'), action(4, 'open-pr'), action(5, 'fail-check')],
    };
    const targets = new Map<string, Target>([
      [fp(1), { kind: 'none', why: 'no managed key has this public key' }],
      [fp(2), { kind: 'credential', provider: 'github', subtype: 'classic-pat' }],
      [fp(3), { kind: 'credential', provider: 'slack' }],
    ]);
    const plan = planResponse(decision, [1, 2, 3, 4, 5].map((n) => finding(n)), targets, { ...opts, canPatch: 'not a git repository' });
    expect(plan.steps).toEqual([]);
    const reasons = plan.notDone.map((n) => `${n.action}:${n.reason}`);
    expect(reasons).toEqual([
      'revoke:not revocable automatically: no managed key has this public key',
      expect.stringMatching(/^revoke:not revocable automatically here: GitHub tokens are revoked through GitHub/),
      'rotate:not revocable automatically here: no slack revoker is configured',
      'open-issue:open-issue is done by the Keywarden App on GitHub',
      'open-pr:no patch: not a git repository',
    ]);
    // Every item says which rule demanded it and where that rule is written.
    expect(plan.notDone.every((n) => n.policy.file === '.github/keywarden.yml' && n.policy.line === 20)).toBe(true);
  });

  it('attributes a step to the most severe rule that demands it', () => {
    const decision: Decision = { violations: [], actions: [action(1, 'revoke', 'low-rule', 'low'), action(1, 'revoke', 'critical-rule', 'critical')] };
    const plan = planResponse(decision, [finding(1)], new Map([[fp(1), key()]]), opts);
    expect(plan.steps[0]!.rule).toBe('critical-rule');
  });

  it('plans nothing for findings no action names, and for an AWS key without a revoker', () => {
    const decision: Decision = { violations: [], actions: [action(2, 'revoke')] };
    const plan = planResponse(decision, [finding(1), finding(2)], new Map([[fp(2), { kind: 'credential', provider: 'aws-iam', credentialId: 'AKIA0000000000000000' }]]), { ...opts, revokers: new Set() });
    expect(plan.steps).toEqual([]);
    expect(plan.notDone).toHaveLength(1);
    expect(plan.notDone[0]!.reason).toContain('no aws-iam revoker');
  });
});
