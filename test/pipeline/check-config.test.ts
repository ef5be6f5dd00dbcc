/**
 * `judgeConfig` (src/pipeline/check-config.ts), the check `keywarden check` and the App's PR check
 * share: with an engine kept between checks, a second check where one file changed evaluates only
 * that file's facts again, and decides exactly as a fresh full evaluation does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { judgeConfig } from '../../src/pipeline/check-config.js';
import { readPolicy } from '../../src/policy/engine/load.js';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/engine/policy-engine.js';
import { opa, tempDir, writeTemp } from '../policy/helpers.js';

const TF = path.resolve(import.meta.dirname, '../fixtures/inspect/terraform');
const NOW = '2026-12-01T00:00:00Z';
const key = (name: string, rotation: boolean): string => `resource "aws_kms_key" "${name}" {\n  description         = "${name}"\n  enable_key_rotation = ${rotation}\n}\n`;

describe('judgeConfig', () => {
  let incremental: PolicyEngine;
  let full: PolicyEngine;
  beforeAll(async () => {
    const file = writeTemp(tempDir(), 'keywarden.yml', 'version: 1\nname: t\nextends: [keywarden:aws-kms-baseline]\n');
    const ast = await readPolicy(file);
    incremental = await createPolicyEngine({ ast, opa: opa(), cacheDir: false });
    full = await createPolicyEngine({ ast, opa: opa(), cacheDir: false, incremental: false });
  }, 120_000);

  it('re-judges only the facts of the file that changed, with the same decision as a full evaluation', () => {
    const inputs = [
      { path: 'infra/main.tf', text: readFileSync(path.join(TF, 'compliant/main.tf'), 'utf8') },
      { path: 'infra/variables.tf', text: readFileSync(path.join(TF, 'compliant/variables.tf'), 'utf8') },
      ...Array.from({ length: 20 }, (_, i) => ({ path: `svc${i}/kms.tf`, text: key(`k${i}`, true) })),
    ];
    const files = inputs.map((i) => i.path);
    const first = judgeConfig(incremental, { inputs, files, now: NOW });
    expect(first.violations).toEqual(judgeConfig(full, { inputs, files, now: NOW }).violations);
    const firstItems = incremental.lastItems.evaluated;
    expect(firstItems).toBeGreaterThan(20);

    const changed = inputs.map((i) => (i.path === 'svc7/kms.tf' ? { ...i, text: key('k7', false) } : i));
    const second = judgeConfig(incremental, { inputs: changed, files, now: NOW });
    expect(incremental.lastItems.evaluated).toBeLessThanOrEqual(2);
    expect(incremental.lastItems.reused).toBeGreaterThan(20);
    expect(second.violations).toEqual(judgeConfig(full, { inputs: changed, files, now: NOW }).violations);
    expect(second.violations.map((v) => `${v.subject.file}:${v.rule}`)).toContain('svc7/kms.tf:keys/aws-kms-symmetric-rotation/rotation/automatic');
    expect(second.counts.configFiles).toBe(22);
  });

  it('sorts violations and problems by file and line, and keeps problems beside them', () => {
    const inputs = [
      { path: 'b/kms.tf', text: key('b', false) },
      { path: 'a/kms.tf', text: `# a\n${key('a', false)}` },
      { path: 'c/bad.tf', text: 'resource "aws_kms_key" "x" {\n' },
    ];
    const r = judgeConfig(incremental, { inputs, files: inputs.map((i) => i.path), now: NOW, problems: [{ code: 'KW_FILE_TOO_LARGE', file: 'a/huge.tf', line: 1, column: 1, message: 'too large' }] as never });
    const files = r.violations.map((v) => v.subject.file);
    expect(files).toEqual([...files].sort());
    expect(r.problems.map((p) => p.file)).toEqual(['a/huge.tf', 'c/bad.tf']);
  });
});
