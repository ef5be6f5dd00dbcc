/**
 * Hostile input: whatever a repository holds, `patchFile` returns a typed result in bounded time
 * (no timing assertions: finishing under the default timeout is the check).
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { patchFile, type PatchFileResult } from '../../src/remediate/index.js';
import { fakeSecret, siteOf } from './helpers.js';

function expectTyped(r: PatchFileResult): void {
  expect(['edit', 'remove', 'none']).toContain(r.action);
  expect(Array.isArray(r.sites)).toBe(true);
}

describe('patchFile on hostile input', () => {
  it('a 5 MB minified JavaScript line', () => {
    const secret = fakeSecret('sk_live_');
    const chunk = 'function a(b){return b&&b.c?b.c.d(e,"x"):void 0}var q=[1,2,3].map(function(z){return z*2});';
    const filler = chunk.repeat(Math.ceil((2.5 * 1024 * 1024) / chunk.length));
    const text = `${filler}var cfg={stripeKey:"${secret}"};${filler}\n`;
    const r = patchFile({ path: 'dist/app.min.js', text, sites: [siteOf(text, secret)] });
    expectTyped(r);
    if (r.action !== 'edit') throw new Error(r.action);
    expect(r.method).toBe('ts-morph');
    expect(r.envVars.map((e) => e.name)).toEqual(['STRIPE_KEY']);
    expect(r.text.startsWith(filler)).toBe(true);
    expect(r.text.endsWith(`};${filler}\n`)).toBe(true);
    expect(r.text).not.toContain(secret);
  });

  it('deeply nested expressions: the parser would overflow, the text method answers', () => {
    const secret = fakeSecret();
    const depth = 20_000;
    const text = `const x = ${'('.repeat(depth)}'${secret}'${')'.repeat(depth)};\nconst y = [${'['.repeat(depth)}${']'.repeat(depth)}];\n`;
    const r = patchFile({ path: 'deep.ts', text, sites: [siteOf(text, secret)] });
    expectTyped(r);
    if (r.action !== 'edit') throw new Error(r.action);
    expect(r.method).toBe('text');
    expect(r.notes[0]).toMatch(/^KW_PATCH_UNPARSEABLE: the code is nested too deeply/);
    expect(r.text).not.toContain(secret);
    // Moderate depth parses: the tree walk is iterative.
    const moderate = `const x = ${'('.repeat(200)}'${secret}'${')'.repeat(200)};\n`;
    const r2 = patchFile({ path: 'deep.ts', text: moderate, sites: [siteOf(moderate, secret)] });
    expect(r2.action === 'edit' && r2.method).toBe('ts-morph');
  });

  it('files ts-morph cannot parse: unterminated strings, stray tokens, binary-ish text', () => {
    const secret = fakeSecret();
    for (const text of [
      `const a = '${secret}\nconst b = 1;\n`,
      `}}}}{{{{ const t = "${secret}" ))))\n`,
      `<<<<<<< HEAD\nconst t = '${secret}';\n=======\nconst t = 'x';\n>>>>>>> branch\n`,
      `\uFEFF\u202Econst t = \`${secret}\${\n`,
    ]) {
      const r = patchFile({ path: 'broken.tsx', text, sites: [siteOf(text, secret)] });
      expectTyped(r);
      if (r.action !== 'edit') throw new Error(r.action);
      expect(r.method).toBe('text');
      expect(r.notes.some((n) => n.startsWith('KW_PATCH_UNPARSEABLE'))).toBe(true);
      expect(r.text).not.toContain(secret);
      // The text method changes the secret's range only.
      const i = text.indexOf(secret);
      expect(r.text.startsWith(text.slice(0, i))).toBe(true);
      expect(r.text.endsWith(text.slice(i + secret.length))).toBe(true);
    }
  });

  it('a YAML alias bomb is never expanded', () => {
    const secret = fakeSecret();
    let text = `token: ${secret}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n`;
    for (let i = 1; i < 40; i++) text += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
    const r = patchFile({ path: 'bomb.yaml', text, sites: [siteOf(text, secret)] });
    expectTyped(r);
    if (r.action !== 'edit') throw new Error(r.action);
    expect(r.text.startsWith('token: ${TOKEN}\n')).toBe(true);
    expect(parseAllDocuments(r.text)[0]!.errors).toEqual([]);
  });

  it('broken YAML and JSON still get a typed answer and never get worse', () => {
    const secret = fakeSecret();
    const yaml = `a: [unclosed\ntoken: "${secret}"\n  bad: indent: here\n`;
    expectTyped(patchFile({ path: 'x.yaml', text: yaml, sites: [siteOf(yaml, secret)] }));
    const json = `{"token": "${secret}", "a": [1, 2,, }`;
    const r = patchFile({ path: 'x.json', text: json, sites: [siteOf(json, secret)] });
    expectTyped(r);
    expect(JSON.stringify(r)).not.toContain(secret);
  });

  it('sites with nonsense positions, overlaps and duplicates', () => {
    const secret = fakeSecret();
    const text = `const token = '${secret}';\n`;
    const good = siteOf(text, secret);
    const sites = [
      good,
      { ...good },
      { ...good, startColumn: good.startColumn + 2, endColumn: good.endColumn + 1 },
      { ...good, startLine: 0 },
      { ...good, startLine: 99, endLine: 99 },
      { ...good, startColumn: 1e9 },
      { ...good, startColumn: Number.NaN },
      { ...good, endLine: 1, endColumn: 2 },
    ];
    const r = patchFile({ path: 'a.ts', text, sites });
    expectTyped(r);
    expect(r.sites.map((s) => s.outcome)).toEqual(['replaced', 'replaced', 'stale', 'unsupported', 'unsupported', 'unsupported', 'unsupported', 'unsupported']);
  });
});
