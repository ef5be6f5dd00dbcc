/**
 * The compiler replaces `glob.match(p, null, x)` by `==`, `startswith`, `endswith`, `contains` or
 * `is_string` where it can. Property: for random patterns and strings, the replacement and the
 * real `glob.match` (in OPA's wasm, as decisions run) agree.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { globConditions } from '../../src/policy/compile/compile-policy.js';
import { validatePolicy } from '../../src/policy/dsl/parse.js';
import { extractFromTarGz } from '../../src/policy/engine/build.js';
import { runOpa } from '../../src/policy/engine/opa-cli.js';
import { opa, tempDir, writeTemp } from './helpers.js';

const simple = fc.constantFrom('a', 'b', '/', '.', '-', '*', '**', 'ab', 'é');
const any = fc.oneof(simple, fc.constantFrom('?', '[ab]', '{a,b}', '\\*', ','));
const pattern = (piece: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.array(piece, { minLength: 1, maxLength: 5 }).map((ps) => ps.join(''));

describe('precompiled globs', () => {
  it('picks the cheap test for the common shapes', () => {
    expect(globConditions('alias/pay-*', 'x')).toEqual(['startswith(x, "alias/pay-")']);
    expect(globConditions('**/.env', 'x')).toEqual(['endswith(x, "/.env")']);
    expect(globConditions('*3DES*', 'x')).toEqual(['contains(x, "3DES")']);
    expect(globConditions('*', 'x')).toEqual(['is_string(x)']);
    expect(globConditions('main', 'x')).toEqual(['x == "main"']);
    expect(globConditions('arn:aws:iam::*:root', 'x')).toEqual(['startswith(x, "arn:aws:iam::")', 'endswith(x, ":root")', 'count(x) >= 18']);
    expect(globConditions('*a*b*', 'x')).toEqual(['glob.match("*a*b*", null, x)']);
    expect(globConditions('role/app-?', 'x')).toEqual(['glob.match("role/app-?", null, x)']);
  });

  it('agrees with glob.match in wasm on random patterns and strings', async () => {
    // At most 100 distinct patterns: OPA's wasm glob cache holds 100, and an evaluation that uses
    // more never returns (OPA 1.22.3; the cache cap of open-policy-agent/opa#6846).
    const patterns = [...new Set([...fc.sample(pattern(simple), { numRuns: 70, seed: 42 }), ...fc.sample(pattern(any), { numRuns: 25, seed: 43 })])].slice(0, 95);
    const strings = [...new Set(fc.sample(fc.array(fc.constantFrom('a', 'b', '/', '.', '-', 'ab', 'é', '*', ''), { maxLength: 6 }).map((ps) => ps.join('')), { numRuns: 200, seed: 7 }))];
    const lines = ['package t', ''];
    patterns.forEach((p, i) => {
      const conds = globConditions(p, 'x');
      lines.push(`cheap_${i}(x) if {`, ...conds.map((c) => `\t${c}`), '}', '', `full_${i}(x) if glob.match(${JSON.stringify(p)}, null, x)`, '');
      lines.push(`differs contains [${i}, s] if {`, '\tsome s in input', `\tcheap_${i}(s)`, `\tnot full_${i}(s)`, '}', '', `differs contains [${i}, s] if {`, '\tsome s in input', `\tfull_${i}(s)`, `\tnot cheap_${i}(s)`, '}', '');
    });
    const dir = tempDir();
    writeTemp(dir, 't.rego', lines.join('\n'));
    const build = await runOpa(opa(), ['build', '-t', 'wasm', '-e', 't/differs', '-o', 'b.tar.gz', 't.rego'], { cwd: dir });
    expect(build.stderr).toBe('');
    const wasm = extractFromTarGz(readFileSync(join(dir, 'b.tar.gz')), 'policy.wasm');
    const policy = await loadPolicy(wasm.slice().buffer);
    const rs = policy.evaluate(strings, 't/differs') as Array<{ result: Array<[number, string]> }>;
    const differs = (rs[0]?.result ?? []).map(([i, s]) => ({ pattern: patterns[i], s }));
    expect(differs.slice(0, 10)).toEqual([]); // the first few, so that a failure stays readable
  });

  it('refuses a policy with more globs that need the engine than OPA\'s wasm can evaluate', () => {
    const policy = (n: number): string => `version: 1\nkeys:\n  - name: k\n    match: { id: "*" }\n    access:\n      admins: [${Array.from({ length: n }, (_, i) => `"role/admin-${i}-?"`).join(', ')}]\n`;
    expect(validatePolicy(policy(100), { file: 'policy.yml' }).ok).toBe(true);
    const r = validatePolicy(policy(101), { file: 'policy.yml' });
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => ({ code: e.code, reason: e.details?.reason, line: e.location?.line }))).toEqual([{ code: 'KW_POLICY_INVALID', reason: 'glob-count', line: 6 }]);
  });
});
