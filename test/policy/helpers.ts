import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validatePolicy } from '../../src/policy/dsl/parse.js';
import type { PolicyAst } from '../../src/policy/dsl/ast.js';
import { findOpa } from '../../src/policy/engine/opa-cli.js';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/engine/policy-engine.js';
import type { RegoModule } from '../../src/policy/engine/build.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = join(ROOT, 'test/fixtures/policy');
export const opa = (): string => findOpa({ root: ROOT });

export function tempDir(prefix = 'kw-policy-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeTemp(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

export function ast(yaml: string, file = 'policy.yml'): PolicyAst {
  const r = validatePolicy(yaml, { file });
  if (!r.ok) throw new Error(`policy invalid: ${JSON.stringify(r.errors.map((e) => e.toJSON()), null, 2)}`);
  return r.ast;
}

/** Build a policy through the real OPA CLI and load it into opa-wasm (no disk cache). */
export function engine(yaml: string, modules: RegoModule[] = []): Promise<PolicyEngine> {
  return createPolicyEngine({ ast: ast(yaml), modules, opa: opa(), cacheDir: false });
}

export const NOW = '2026-03-01T00:00:00Z';
export const fp = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;

export function finding(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ruleId: 'aws-access-key-id',
    type: 'aws-access-key',
    title: 'AWS access key ID',
    severity: 'critical',
    confidence: 'high',
    file: 'src/config.ts',
    startLine: 3,
    startColumn: 7,
    endLine: 3,
    endColumn: 27,
    fingerprint: fp('a'),
    redacted: 'AKIA…QX',
    ...over,
  };
}

export function key(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'k1',
    backend: 'aws-kms',
    aliases: ['alias/app'],
    spec: 'ECC_NIST_P256',
    state: 'Enabled',
    createdAt: '2026-01-01T00:00:00Z',
    rotation: { enabled: true, periodDays: 180 },
    tags: {},
    access: [],
    ...over,
  };
}
