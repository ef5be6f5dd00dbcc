/**
 * Custom detectors (a policy's `pattern:`) run on a linear-time engine: no pattern and no input
 * can stall a scan. A hang shows up as the test's timeout; no test asserts a duration.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeywardenError } from '../../src/errors.js';
import { getSecretsConfig } from '../../src/policy/dsl/secrets.js';
import { validatePolicy } from '../../src/policy/dsl/parse.js';
import { readPolicy } from '../../src/policy/engine/load.js';
import { createLinearPattern, MAX_LINEAR_MATCH, translatePattern } from '../../src/scan/linear-pattern.js';
import { scan } from '../../src/scan/scan.js';
import { compileCustomDetector } from '../../src/scan/select-detectors.js';

/** Every match as the engine reads it: a global exec loop. */
function all(source: string, text: string, flags = ''): Array<{ index: number; m: string; groups: Record<string, string | undefined> | undefined; g1: string | undefined }> {
  const p = createLinearPattern(source, flags);
  const out = [];
  p.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = p.exec(text)) !== null) {
    if (m[0].length === 0) p.lastIndex++;
    out.push({ index: m.index, m: m[0], groups: m.groups ? { ...m.groups } : undefined, g1: m[1] });
  }
  return out;
}

const native = (source: string, text: string, flags = ''): Array<{ index: number; m: string }> => [...text.matchAll(new RegExp(source, `${flags}g`))].map((m) => ({ index: m.index, m: m[0] }));

/** A repository whose policy defines the given detectors, plus files. */
function repoWithPolicy(detectors: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-linear-'));
  mkdirSync(join(dir, '.github'));
  writeFileSync(join(dir, '.github/keywarden.yml'), `version: 1\nsecrets:\n  detectors:\n${detectors}`);
  for (const [rel, text] of Object.entries(files)) writeFileSync(join(dir, rel), text);
  return dir;
}

async function scanWithPolicy(dir: string, workers?: number) {
  const { custom } = getSecretsConfig(await readPolicy('.github/keywarden.yml', { cwd: dir }));
  return scan({ path: dir, detectors: { builtins: false, custom }, ignorePaths: ['.github/'], ...(workers === undefined ? {} : { workers }) });
}

describe('createLinearPattern behaves like a global RegExp', () => {
  it('index, lastIndex, numbered and named groups (undefined when unmatched), and the end of the search', () => {
    const p = createLinearPattern('itk_(?<secret>[a-z0-9]{4})(-x)?', 'i');
    expect(p.flags).toBe('ig');
    p.lastIndex = 0;
    const a = p.exec('xx itk_abcd ITK_0123-x');
    expect(a).toMatchObject({ 0: 'itk_abcd', 1: 'abcd', index: 3, groups: { secret: 'abcd' } });
    expect(a?.[2]).toBeUndefined();
    expect(a?.length).toBe(3);
    expect(p.lastIndex).toBe(11);
    expect(p.exec('xx itk_abcd ITK_0123-x')).toMatchObject({ 0: 'ITK_0123-x', index: 12, groups: { secret: '0123' } });
    expect(p.exec('xx itk_abcd ITK_0123-x')).toBeNull();
    expect(p.lastIndex).toBe(0);
    expect(createLinearPattern('a(b)').exec('ab')?.groups).toBeUndefined();
  });

  it.each([
    ['\\bk_[a-z]+\\b', 'k_ab, xk_cd k_ef!'],
    ['a.c', 'abc a\nc a\rc a\u2028c'],
    ['x\\sy', 'x y x\u000by x\u00a0y x\ty'],
    ['[^]{2}z', '\n\nz'],
    ['\\u0041\\x42\\cJ', 'AB\n'],
    ['\\/\\A\\-', '/A-'],
    ['[\\b\\s\\d]+', '1 \b2'],
    ['^a|b$', 'ab'],
    ['(?:ab)+?c', 'ababc'],
    ['tok_[[:x]', 'tok_[ tok_: tok_x'],
  ])('translates %j to the same matches as JavaScript', (source, text) => {
    expect(all(source, text).map(({ index, m }) => ({ index, m }))).toEqual(native(source, text));
  });

  it('flags i, m, s, u keep their JavaScript meaning', () => {
    for (const [source, text, flags] of [
      ['^b.', 'a\nbc', 'm'],
      ['a.b', 'a\nb', 's'],
      ['\\u{1F600}', '\u{1F600}', 'u'],
      ['ABC', 'xabcx', 'i'],
    ] as const)
      expect(all(source, text, flags).map(({ index, m }) => ({ index, m }))).toEqual(native(source, text, flags));
  });

  it('refuses backreferences, lookaround and sticky flags with a typed error naming the detector', () => {
    const cases: Array<[string, string, string]> = [
      ['(a)\\1', '', 'backreference'],
      ['(?<x>a)\\k<x>', '', 'backreference'],
      ['a(?=b)', '', 'lookaround'],
      ['a(?!b)', '', 'lookaround'],
      ['(?<=a)b', '', 'lookaround'],
      ['(?<!a)b', '', 'lookaround'],
      ['a', 'y', 'flag'],
      ['(', '', 'syntax'],
      ['a{1001}', '', 'syntax'],
    ];
    for (const [source, flags, reason] of cases) {
      try {
        createLinearPattern(source, flags, { detector: 'my-token' });
        expect.unreachable(source);
      } catch (e) {
        expect(isKeywardenError(e), source).toBe(true);
        if (!isKeywardenError(e)) continue;
        expect(e.code).toBe('KW_DETECTOR_INVALID');
        expect(e.message).toContain('"my-token"');
        expect(e.details).toMatchObject({ reason, detector: 'my-token' });
      }
    }
    expect(() => compileCustomDetector({ id: 'dup', pattern: '(ab)\\1', keywords: ['ab'] })).toThrow(/backreference/);
    expect(translatePattern('(?<name>x)')).toEqual({ source: '(?<name>x)' });
  });
});

describe('no pattern can stall a scan', () => {
  it('(a+)+$ on 41 bytes and on 100 KB: exec returns (JavaScript would backtrack for ages)', () => {
    for (const n of [41, 100 * 1024]) expect(all('(a+)+$', `${'a'.repeat(n)}!`)).toEqual([]);
    expect(all('(a+)+$', 'a'.repeat(100 * 1024))).toHaveLength(1);
    expect(all('(a|a)*b', 'a'.repeat(100 * 1024))).toEqual([]);
    expect(all('(.*a){20}', 'a'.repeat(10 * 1024))).toHaveLength(1);
  });

  it('many short matches whose alternatives look far ahead stay linear, and matches up to MAX_LINEAR_MATCH are whole', () => {
    expect(all('a(.*b)?', 'a'.repeat(20_000))).toHaveLength(20_000);
    const long = `tok_${'x'.repeat(MAX_LINEAR_MATCH - 4)}`;
    const text = `${'y '.repeat(10_000)}${long} ${'y '.repeat(10_000)}`;
    expect(all('tok_x+', text)).toEqual([{ index: 20_000, m: long, groups: undefined, g1: undefined }]);
    // A longer match that runs to the end of the text is found whole too.
    const tail = `${'y '.repeat(5000)}tok_${'x'.repeat(20_000)}`;
    expect(all('tok_x+$', tail).map((m) => m.m.length)).toEqual([20_004]);
  });

  it('through scan(): a policy-defined (a+)+$ detector on 41 bytes and on 100 KB, in threads and in-process', async () => {
    const dir = repoWithPolicy('    - { id: redos, pattern: "(a+)+$", keywords: [aaa] }\n', {
      'short.txt': `${'a'.repeat(41)}!\n`,
      'long.txt': `${'a'.repeat(100 * 1024)}!\n`,
      'match.txt': 'aaaaaaaa\n',
    });
    for (const workers of [undefined, 0]) {
      const r = await scanWithPolicy(dir, workers);
      expect(r.summary.files).toBe(3);
      // The engine hands the 100 KB window of long.txt to the pattern in pieces; `$` at a piece's
      // cut is not the end of the text, so nothing there matches.
      expect(r.findings.map((f) => [f.file, f.ruleId, f.startLine, f.startColumn, f.endColumn])).toEqual([['match.txt', 'redos', 1, 1, 9]]);
    }
  }, 60_000);

  it('through scan(): a normal custom detector from a policy still finds its secrets, the named group being the secret', async () => {
    const secret = 'q7w8e9r0t1y2u3i4o5p6a7s8d9f0g1h2';
    const dir = repoWithPolicy('    - { id: internal-token, pattern: "itk_(?<secret>[a-z0-9]{32})\\\\b", flags: i }\n', {
      'config.js': `const a = 1;\nconst token = "ITK_${secret}";\nconst no = "itk_short";\n`,
    });
    const r = await scanWithPolicy(dir);
    expect(r.findings.map((f) => [f.file, f.ruleId, f.startLine, f.startColumn, f.endColumn])).toEqual([['config.js', 'internal-token', 2, 20, 52]]);
    expect(JSON.stringify(r)).not.toContain(secret);
  }, 60_000);

  it('policy validate reports an unsupported pattern at the line and column of its `pattern:`', () => {
    const r = validatePolicy('version: 1\nsecrets:\n  detectors:\n    - id: twice\n      pattern: "(ab)\\\\1"\n      keywords: [ab]\n    - { id: look, pattern: "x(?=y)", keywords: [xy] }\n', { file: 'p.yml' });
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => [e.location?.line, e.location?.column, e.details?.reason])).toEqual([
      [5, 16, 'regex.backreference'],
      [7, 28, 'regex.lookaround'],
    ]);
    expect(r.errors[0]?.message).toContain('Custom detector "twice"');
  });
});
