/**
 * The built-in policy builder (OPA's compiler in WebAssembly, dist-wasm/opa-build.wasm, built by
 * scripts/setup-tools) against the OPA CLI: byte-identical bundles, so the same decisions; the same
 * typed errors for bad Rego; how it is chosen (`KEYWARDEN_OPA=wasm`, or no CLI) and its bounds.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { isKeywardenError } from '../../src/errors.js';
import { compilePolicy } from '../../src/policy/compile/compile-policy.js';
import type { PolicyAst } from '../../src/policy/dsl/ast.js';
import { PolicyError } from '../../src/policy/dsl/policy-error.js';
import { buildPolicy, type RegoModule } from '../../src/policy/engine/build.js';
import { findOpa } from '../../src/policy/engine/opa-cli.js';
import { readPolicy } from '../../src/policy/engine/load.js';
import { createPolicyEngine } from '../../src/policy/engine/policy-engine.js';
import { createNativeOpaRunner, findOpaRunner, type OpaRunner } from '../../src/policy/engine/opa-runner.js';
import { clearWasmBuilderCache, createWasmOpaRunner, findWasmBuilder, withMemoryLimit } from '../../src/policy/engine/opa-wasm-runner.js';
import { skipUnlessAllowed } from '../setup/real-part.js';
import { ast, FIXTURES, key, NOW, opa, ROOT, tempDir } from './helpers.js';

const builder = findWasmBuilder(ROOT);
const skip = skipUnlessAllowed('opa-wasm builder', builder ? undefined : 'dist-wasm/opa-build.wasm is missing: run scripts/setup-tools --only opa-wasm');
const GOLDEN = join(ROOT, 'test/policy/golden');

const native = (): OpaRunner => createNativeOpaRunner(opa());
const wasm = (): OpaRunner => createWasmOpaRunner({ path: builder! });

afterAll(() => clearWasmBuilderCache());

async function bothErrors(policy: PolicyAst, modules: RegoModule[]): Promise<[unknown, unknown]> {
  const compiled = compilePolicy(policy);
  const fail = (runner: OpaRunner): Promise<unknown> => buildPolicy({ compiled, modules, runner, cacheDir: false }).then(() => undefined, (e: unknown) => e);
  return [await fail(native()), await fail(wasm())];
}

describe.skipIf(skip)('the built-in builder builds what the OPA CLI builds', () => {
  const cases = readdirSync(GOLDEN).filter((c) => c.startsWith('ok.')).sort();
  for (const c of cases) {
    it(`golden ${c}: the same policy.wasm, never the same cache entry`, async () => {
      const compiled = compilePolicy(ast(readFileSync(join(GOLDEN, c, 'policy.yml'), 'utf8')));
      const a = await buildPolicy({ compiled, runner: native(), cacheDir: false });
      const b = await buildPolicy({ compiled, runner: wasm(), cacheDir: false });
      expect(b.cached).toBe(false);
      expect(Buffer.from(b.wasm).equals(Buffer.from(a.wasm))).toBe(true);
      expect(b.hash).not.toBe(a.hash);
    });
  }

  it('the full example policy: the same decision on the realistic input, incremental and whole', async () => {
    const policy = await readPolicy('test/fixtures/policy/full.yml', { cwd: ROOT });
    const input = JSON.parse(readFileSync(join(FIXTURES, 'input.json'), 'utf8')) as Record<string, unknown>;
    const a = await createPolicyEngine({ ast: policy, runner: native(), cacheDir: false });
    const b = await createPolicyEngine({ ast: policy, runner: wasm(), cacheDir: false });
    const expected = a.evaluate(input);
    expect(expected.violations.length).toBeGreaterThan(5);
    expect(b.evaluate(input)).toEqual(expected);
    const c = await createPolicyEngine({ ast: policy, runner: wasm(), cacheDir: false, incremental: false });
    expect(c.evaluate(input)).toEqual(expected);
  });

  it('custom Rego modules join the bundle alike', async () => {
    const modules = [
      {
        path: 'policies/no-test-keys.rego',
        text: 'package keywarden.custom.no_test_keys\n\nviolations contains {"rule": "custom/no-test-keys", "message": "test key", "severity": "low", "policy": {"path": ""}, "subject": {"kind": "key", "id": k.id}} if {\n\tsome k in input.keys\n\tstartswith(k.id, "test-")\n}\n',
      },
    ];
    const policy = ast('version: 1\nkeys:\n  - name: all\n    match: { id: "*" }\n    rotation: { max-age: 30d }\n');
    const a = await createPolicyEngine({ ast: policy, modules, runner: native(), cacheDir: false });
    const b = await createPolicyEngine({ ast: policy, modules, runner: wasm(), cacheDir: false });
    const input = { now: NOW, keys: [key({ id: 'test-1' }), key({ id: 'prod-1', createdAt: '2025-01-01T00:00:00Z' })] };
    const d = b.evaluate(input);
    expect(d.violations.map((v) => `${v.rule} ${v.subject.id}`)).toContain('custom/no-test-keys test-1');
    expect(d).toEqual(a.evaluate(input));
  });
});

describe.skipIf(skip)('bad Rego: the same typed errors as with the OPA CLI', () => {
  it('a missing builtin is KW_POLICY_BUILTIN at the .rego line', async () => {
    const [a, b] = await bothErrors(ast('version: 1\n'), [
      { path: 'policies/clock.rego', text: 'package keywarden.custom.clock\n\nviolations contains {"t": t} if {\n\tt := time.now_ns()\n}\n' },
    ]);
    expect(b).toBeInstanceOf(PolicyError);
    expect((b as PolicyError).problems.map((p) => ({ code: p.code, location: p.location, builtin: p.details?.builtin }))).toEqual([
      { code: 'KW_POLICY_BUILTIN', location: { file: 'policies/clock.rego', line: 4, column: 7 }, builtin: 'time.now_ns' },
    ]);
    expect((b as PolicyError).problems.map((p) => p.toJSON())).toEqual((a as PolicyError).problems.map((p) => p.toJSON()));
  });

  it('parse and strict-mode errors are KW_POLICY_COMPILE, every one, at their lines', async () => {
    const [a, b] = await bothErrors(ast('version: 1\n'), [
      { path: 'policies/broken.rego', text: 'package keywarden.custom.broken\n\nviolations contains x if {\n\tx := \n}\n' },
      { path: 'policies/strict.rego', text: 'package keywarden.custom.strict\n\nimport input.unused\n\nviolations contains "x" if {\n\ty := 1\n\ttrue\n}\n' },
    ]);
    expect(b).toBeInstanceOf(PolicyError);
    const problems = (b as PolicyError).problems;
    expect(problems.length).toBeGreaterThanOrEqual(1);
    for (const p of problems) expect(p.code).toBe('KW_POLICY_COMPILE');
    expect(problems[0]?.location?.file).toBe('policies/broken.rego');
    expect(problems.map((p) => p.toJSON())).toEqual((a as PolicyError).problems.map((p) => p.toJSON()));
  });
});

describe.skipIf(skip)('choosing the builder', () => {
  it('KEYWARDEN_OPA=wasm forces it even when the OPA CLI is installed; `opa test` then says it needs the CLI', () => {
    expect(findOpaRunner({ env: { KEYWARDEN_OPA: 'wasm' }, root: ROOT }).kind).toBe('wasm');
    expect(findOpaRunner({ env: { PATH: '' }, root: ROOT }).kind).toBe('native');
    expect(() => findOpa({ env: { KEYWARDEN_OPA: 'wasm' }, root: ROOT })).toThrow(expect.objectContaining({ code: 'KW_OPA_NOT_FOUND' }));
  });

  it('without the OPA CLI the builder is used; without either, a typed KW_OPA_NOT_FOUND', () => {
    const bare = tempDir('kw-wasm-root-');
    expect(() => findOpaRunner({ env: { PATH: '' }, root: bare })).toThrow(expect.objectContaining({ code: 'KW_OPA_NOT_FOUND', fault: 'config' }));
    mkdirSync(join(bare, 'dist-wasm'));
    symlinkSync(builder!, join(bare, 'dist-wasm', 'opa-build.wasm'));
    expect(findOpaRunner({ env: { PATH: '' }, root: bare })).toMatchObject({ kind: 'wasm', path: join(bare, 'dist-wasm', 'opa-build.wasm') });
    const forcedMissing = tempDir('kw-wasm-root-');
    expect(() => findOpaRunner({ env: { KEYWARDEN_OPA: 'wasm' }, root: forcedMissing })).toThrow(expect.objectContaining({ code: 'KW_OPA_NOT_FOUND' }));
  });

  it('`keywarden policy eval` with KEYWARDEN_OPA=wasm and no PATH decides as with the CLI', async () => {
    const run = async (env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const args = ['policy', 'eval', 'test/fixtures/policy/full.yml', '-i', 'test/fixtures/policy/input.json', '-f', 'json'];
      const code = await main(args, { cwd: ROOT, stdout: (s) => void (out += s), stderr: (s) => void (err += s), env: { KEYWARDEN_CACHE_DIR: 'off', ...env } });
      return { code, out, err };
    };
    const viaWasm = await run({ KEYWARDEN_OPA: 'wasm', PATH: '' });
    const viaCli = await run({ KEYWARDEN_OPA: opa() });
    expect(viaWasm.err).toBe('');
    expect(viaWasm.code).toBe(1);
    expect(JSON.parse(viaWasm.out)).toEqual(JSON.parse(viaCli.out));
  });

  it('prints no ExperimentalWarning (node:wasi warns; the builder silences only that one, in its own process)', async () => {
    const script = `import { createWasmOpaRunner } from ${JSON.stringify(join(ROOT, 'src/policy/engine/opa-wasm-runner.ts'))};
const r = await createWasmOpaRunner().run(['version']);
process.stdout.write(r.stdout);
process.emitWarning('still warns', 'ExperimentalWarning');`;
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
    expect(r.stdout).toMatch(/^Version: 1\.22\.3$/m);
    expect(r.stderr).not.toMatch(/WASI/);
    expect(r.stderr).toContain('still warns');
  });
});

describe.skipIf(skip)('bounds', () => {
  it('a build that needs more memory than the cap fails typed, and the builder recovers', async () => {
    const small = createWasmOpaRunner({ path: builder!, maxMemoryMiB: 22 });
    const compiled = compilePolicy(ast('version: 1\nkeys:\n  - name: a\n    match: { id: "*" }\n    rotation: { max-age: 90d }\n'));
    const err = await buildPolicy({ compiled, runner: small, cacheDir: false }).catch((e: unknown) => e);
    expect(isKeywardenError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'KW_POLICY_BUILD', fault: 'internal' });
    expect((err as Error).message).toMatch(/ran out of memory \(limit 22 MiB\)/);
    const ok = await small.run(['check', '--format', 'json', 'p.rego'], { files: { 'p.rego': 'package p\n\nallow := true\n' } }).catch((e: unknown) => e);
    // A fresh instance after the crash: small enough checks fit (or fail typed again, never hang).
    if (!isKeywardenError(ok)) expect(ok).toMatchObject({ code: 0 });
  });

  it('a command that runs past its timeout is stopped; the next one gets a new instance', async () => {
    const runner = wasm();
    const err = await runner.run(['capabilities', '--current'], { timeoutMs: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KW_POLICY_BUILD' });
    expect((err as Error).message).toMatch(/did not finish/);
    const r = await runner.run(['version']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^Version: 1\.22\.3$/m);
  });

  it('the guest sees only the files of its run', async () => {
    const runner = wasm();
    const r = await runner.run(['check', '--format', 'json', '/etc/passwd', 'p.rego'], { files: { 'p.rego': 'package p\n' } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/passwd/);
    expect(r.stderr).not.toMatch(/root:/);
    await expect(runner.run(['version'], { files: { '../escape.rego': 'x' } })).rejects.toMatchObject({ code: 'KW_INTERNAL' });
  });

  it('withMemoryLimit gives the memory a maximum the instance cannot grow past', async () => {
    // (module (memory (export "m") 1))
    const mod = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0, 1, 7, 5, 1, 1, 0x6d, 2, 0]);
    const api = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array): Promise<{ instance: { exports: { m: { grow(n: number): number } } } }> } }).WebAssembly;
    const { instance } = await api.instantiate(withMemoryLimit(mod, 2));
    expect(instance.exports.m.grow(1)).toBe(1);
    expect(() => instance.exports.m.grow(1)).toThrow(RangeError);
    expect(() => withMemoryLimit(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), 2)).toThrow(expect.objectContaining({ code: 'KW_OPA_NOT_FOUND' }));
  });
});
