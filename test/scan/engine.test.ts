import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { createPrefilter } from '../../src/scan/prefilter.js';
import { createRuleset, scanBytes } from '../../src/scan/engine.js';
import { scanText } from '../../src/scan/scan-text.js';
import type { Detector } from '../../src/scan/types.js';

// Synthetic token shapes only: these detectors exist for the engine's own tests.
const token: Detector = {
  id: 'test-token',
  type: 'test-token',
  title: 'Test token',
  severity: 'high',
  confidence: 'high',
  keywords: ['tstk_'],
  pattern: /\b(tstk_[A-Za-z0-9]{24})\b/,
};
const generic: Detector = {
  id: 'test-generic',
  type: 'generic-secret',
  title: 'Generic',
  severity: 'medium',
  confidence: 'low',
  keywords: ['secret'],
  pattern: /secret\s*=\s*"([^"]{8,})"/i,
  priority: 0,
};
const pem: Detector = {
  id: 'test-pem',
  type: 'private-key',
  title: 'PEM',
  severity: 'critical',
  confidence: 'high',
  keywords: ['-----begin test'],
  pattern: /-----BEGIN TEST KEY-----[\s\S]{10,4000}?-----END TEST KEY-----/,
  multiline: true,
};

const rand = (n: number): string => randomBytes(n * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n);
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('prefilter', () => {
  it('finds every occurrence of every keyword, case-insensitively, including overlaps', () => {
    const pf = createPrefilter(['he', 'she', 'his', 'hers']);
    const hits: [string, number][] = [];
    pf.scan(Buffer.from('uSHErs his'), (k, o) => hits.push([pf.keywords[k]!, o]));
    expect(hits).toEqual([
      ['she', 1],
      ['he', 2],
      ['hers', 2],
      ['his', 7],
    ]);
  });
  it('matches a brute-force search on random text', () => {
    const words = ['akia', 'ghp_', 'secret', 'key', 'ey', 'xoxb-'];
    const pf = createPrefilter(words);
    const alphabet = 'akiAKIghp_secrtyxob-EY ';
    let text = '';
    for (let i = 0; i < 5000; i++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
    const got: string[] = [];
    pf.scan(Buffer.from(text), (k, o) => got.push(`${k}@${o}`));
    const want: string[] = [];
    const lower = text.toLowerCase();
    words.forEach((w, k) => {
      for (let i = lower.indexOf(w); i !== -1; i = lower.indexOf(w, i + 1)) want.push(`${k}@${i}`);
    });
    expect(got.sort()).toEqual(want.sort());
  });
});

describe('scanBytes', () => {
  it('reports 1-based lines and columns, end column exclusive, fingerprint and redaction', () => {
    const t = `tstk_${rand(24)}`;
    const text = `first line\n  const k = "${t}";\n`;
    const [f] = scanText(text, { detectors: [token], file: 'a.js' });
    expect(f).toMatchObject({ ruleId: 'test-token', file: 'a.js', startLine: 2, startColumn: 14, endLine: 2, endColumn: 14 + t.length });
    expect(f!.fingerprint).toBe(sha(t));
    expect(f!.redacted).toBe(`${t.slice(0, 4)}…${t.slice(-4)}`);
    expect(JSON.stringify(f)).not.toContain(t);
  });

  it('counts columns in UTF-16 code units after multi-byte characters', () => {
    const t = `tstk_${rand(24)}`;
    const [f] = scanText(`ключ = "${t}"`, { detectors: [token] });
    expect(f!.startColumn).toBe(9);
  });

  it('keeps the specific detector when a generic one overlaps it', () => {
    const t = `tstk_${rand(24)}`;
    const found = scanText(`secret = "${t}"`, { detectors: [generic, token] });
    expect(found.map((f) => f.ruleId)).toEqual(['test-token']);
  });

  it('finds multi-line secrets and gives their end line', () => {
    const body = Array.from({ length: 5 }, () => rand(64)).join('\n');
    const text = `x\n-----BEGIN TEST KEY-----\n${body}\n-----END TEST KEY-----\n`;
    const [f] = scanText(text, { detectors: [pem] });
    expect(f).toMatchObject({ startLine: 2, endLine: 8, startColumn: 1, endColumn: 23 });
  });

  it('honours inline allow comments of ours and of other tools', () => {
    const lines = [
      `a = "tstk_${rand(24)}" // keywarden:allow`,
      `b = "tstk_${rand(24)}" # gitleaks:allow`,
      `c = "tstk_${rand(24)}" // secretlint-disable-line`,
      `d = "tstk_${rand(24)}" # pragma: allowlist secret`,
      '// keywarden:allow-next-line',
      `e = "tstk_${rand(24)}"`,
      `f = "tstk_${rand(24)}"`,
    ];
    const rs = createRuleset([token]);
    const r = scanBytes(Buffer.from(lines.join('\n')), rs, { file: 'x' });
    expect(r.findings.map((f) => f.startLine)).toEqual([7]);
    expect(r.suppressed).toBe(5);
    expect(scanText(lines.join('\n'), { detectors: [token], inlineAllow: false })).toHaveLength(6);
  });

  it('maps lines through a line map (added lines of a diff) and respects emit bounds', () => {
    const t = `tstk_${rand(24)}`;
    const rs = createRuleset([token]);
    const r = scanBytes(Buffer.from(`one\n${t}\n`), rs, { file: 'x', lineMap: [10, 42] });
    expect(r.findings[0]!.startLine).toBe(42);
    const bounded = scanBytes(Buffer.from(`${t} ${t}`), rs, { file: 'x', emitFrom: 1 });
    expect(bounded.findings).toHaveLength(1);
  });

  it('does not match a token that only looks bounded because the window cut it', () => {
    const t = `tstk_${rand(24)}`;
    // The keyword occurs far into a long token; the window start must move back to the token start.
    const long = `${rand(300)}${t}`;
    expect(scanText(long, { detectors: [token] })).toHaveLength(0);
  });
});
