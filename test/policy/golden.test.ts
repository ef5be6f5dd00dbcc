/**
 * Golden files for the compiler: `ok.<case>/policy.yml` → `expected.rego`, `ng.<case>/policy.yml`
 * → `error.json`. Under CI (process.env.CI) vitest runs with `update: none`, so a missing golden
 * fails instead of being written, and a changed one always fails. Every expected.rego must also
 * pass `opa check --strict` with the wasm capabilities and be unchanged by `opa fmt`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compile/compile-policy.js';
import { validatePolicy } from '../../src/policy/dsl/parse.js';
import { wasmCapabilities } from '../../src/policy/engine/build.js';
import { runOpa } from '../../src/policy/engine/opa-cli.js';
import { opa, tempDir, writeTemp } from './helpers.js';

const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const cases = readdirSync(GOLDEN).sort();

describe('golden: ok cases compile to the expected Rego', () => {
  for (const c of cases.filter((x) => x.startsWith('ok.'))) {
    it(c, async () => {
      const r = validatePolicy(readFileSync(join(GOLDEN, c, 'policy.yml'), 'utf8'), { file: 'policy.yml' });
      expect(r.errors.map((e) => e.toJSON())).toEqual([]);
      if (!r.ok) return;
      const first = compilePolicy(r.ast).rego;
      expect(compilePolicy(r.ast).rego).toBe(first); // deterministic
      await expect(first).toMatchFileSnapshot(`./golden/${c}/expected.rego`);
    });
  }
});

describe('golden: ng cases report the expected errors', () => {
  for (const c of cases.filter((x) => x.startsWith('ng.'))) {
    it(c, async () => {
      const r = validatePolicy(readFileSync(join(GOLDEN, c, 'policy.yml'), 'utf8'), { file: 'policy.yml' });
      expect(r.ok).toBe(false);
      for (const e of r.errors) {
        expect(e.code).toMatch(/^KW_POLICY_/);
        expect(e.location?.line).toBeGreaterThan(0);
        expect(e.location?.column).toBeGreaterThan(0);
        expect(e.hint).toBeTruthy();
      }
      await expect(`${JSON.stringify(r.errors.map((e) => e.toJSON()), null, 2)}\n`).toMatchFileSnapshot(`./golden/${c}/error.json`);
    });
  }
});

describe('golden Rego passes opa check --strict and is stable under opa fmt', () => {
  for (const c of cases.filter((x) => x.startsWith('ok.'))) {
    it(c, async () => {
      const r = validatePolicy(readFileSync(join(GOLDEN, c, 'policy.yml'), 'utf8'), { file: 'policy.yml' });
      if (!r.ok) throw new Error('invalid');
      const bin = opa();
      const dir = tempDir();
      const file = writeTemp(dir, 'policy.rego', compilePolicy(r.ast).rego);
      writeTemp(dir, 'capabilities.json', (await wasmCapabilities(bin)).json);
      const check = await runOpa(bin, ['check', '--strict', '--capabilities', join(dir, 'capabilities.json'), file]);
      expect(check.stderr + check.stdout).toBe('');
      expect(check.code).toBe(0);
      const fmt = await runOpa(bin, ['fmt', '--diff', '--fail', file]);
      expect(fmt.stdout).toBe('');
      expect(fmt.code).toBe(0);
    });
  }
});
