/** Built bundles are cached by content hash, in memory and on disk. */
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compile/compile-policy.js';
import { buildPolicy, clearBuildCache } from '../../src/policy/engine/build.js';
import { ast, opa, tempDir } from './helpers.js';

describe('build cache', () => {
  it('an unchanged policy is not rebuilt: memory hit, then disk hit after the memory is gone; a change rebuilds', async () => {
    const cacheDir = tempDir('kw-policy-cache-');
    const compiled = compilePolicy(ast('version: 1\nkeys:\n  - name: a\n    match: { id: "*" }\n    rotation: { max-age: 90d }\n'));
    clearBuildCache();
    const cold = await buildPolicy({ compiled, opa: opa(), cacheDir });
    expect(cold.cached).toBe(false);
    const warm = await buildPolicy({ compiled, opa: opa(), cacheDir });
    expect(warm).toMatchObject({ cached: 'memory', hash: cold.hash });
    clearBuildCache();
    const disk = await buildPolicy({ compiled, opa: opa(), cacheDir });
    expect(disk).toMatchObject({ cached: 'disk', hash: cold.hash });
    expect(Buffer.from(disk.wasm).equals(Buffer.from(cold.wasm))).toBe(true);
    const changed = compilePolicy(ast('version: 1\nkeys:\n  - name: a\n    match: { id: "*" }\n    rotation: { max-age: 91d }\n'));
    const rebuilt = await buildPolicy({ compiled: changed, opa: opa(), cacheDir });
    expect(rebuilt.cached).toBe(false);
    expect(rebuilt.hash).not.toBe(cold.hash);
    const withModule = await buildPolicy({ compiled, modules: [{ path: 'policies/x.rego', text: 'package keywarden.custom.x\n\nviolations := set()\n' }], opa: opa(), cacheDir });
    expect(withModule.hash).not.toBe(cold.hash);
  });
});
