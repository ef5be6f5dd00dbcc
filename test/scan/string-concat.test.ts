/**
 * A token split over concatenated string literals (`"xoxb-…" + "…"`, over lines, PHP's ` . `) is
 * found once, on the line of its first piece, with the joined secret's fingerprint; joins with a
 * variable end a run; hostile input stays linear and bounded. Secrets from the generators.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { createRuleset } from '../../src/scan/engine.js';
import { builtinDetectors } from '../../src/scan/detectors/index.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { scanUnit } from '../../src/scan/sources/read-file.js';
import { stringConcatSegments } from '../../src/scan/views/string-concat.js';
import { createViewBudget } from '../../src/scan/views/segments.js';
import { secretGenerators } from '../fixtures/secrets/generators.js';
import { createRng } from '../fixtures/secrets/gen-util.js';

const ruleset = createRuleset(builtinDetectors);
const rng = createRng('string-concat');
const gen = (id: string): string => secretGenerators[id]!(rng).secret;

function findings(file: string, text: string): { ruleId: string; startLine: number; fingerprint: string }[] {
  return scanUnit({ file, content: Buffer.from(text) }, ruleset, { inlineAllow: true }).findings;
}

describe('string concatenation view', () => {
  const cases: [string, (a: string, b: string) => string][] = [
    ['ts, one line', (a, b) => `const slackBotToken = "${a}" + "${b}";\n`],
    ['ts, over lines', (a, b) => `const key =\n  '${a}' +\n  '${b}';\n`],
    ['java, operator first', (a, b) => `String token = "${a}"\n    + "${b}";\n`],
    ['php', (a, b) => `$key = '${a}' . '${b}';\n`],
    ['python', (a, b) => `TOKEN = ("${a}" +\n         "${b}")\n`],
  ];
  it.each(cases)('%s: the joined token is one finding at its first piece', (_name, write) => {
    for (const id of ['github-pat-classic', 'slack-bot-token', 'stripe-secret-key', 'openai-api-key']) {
      const secret = gen(id);
      const cut = 8 + Math.floor(secret.length / 3);
      const text = `// header\n${write(secret.slice(0, cut), secret.slice(cut))}`;
      const hits = findings('src/auth.ts', text).filter((f) => f.fingerprint === fingerprintSecret(secret));
      const firstLine = text.slice(0, text.indexOf(secret.slice(0, cut))).split('\n').length;
      expect(hits.map((f) => [f.ruleId, f.startLine]), `${id}: ${text}`).toEqual([[id, firstLine]]);
    }
  });

  it('a variable between literals ends the run: nothing joined across it', () => {
    const secret = gen('github-pat-classic');
    const text = `const t = "${secret.slice(0, 10)}" + suffix + "${secret.slice(10)}";\n`;
    expect(findings('a.ts', text).filter((f) => f.fingerprint === fingerprintSecret(secret))).toEqual([]);
  });

  it('a secret whole on one line is reported once, not again by the view', () => {
    const secret = gen('github-pat-classic');
    const text = `const t = "${secret}" + "\\n";\n`;
    expect(findings('a.ts', text).filter((f) => f.fingerprint === fingerprintSecret(secret))).toHaveLength(1);
  });

  it('hostile input: a megabyte of joins and of unclosed quotes stays within the budget', () => {
    const budget = createViewBudget(64 * 1024, 100);
    const out: Parameters<typeof stringConcatSegments>[2] = [];
    stringConcatSegments(Buffer.from(`"abcdefgh" + `.repeat(80_000) + `"'`.repeat(100_000)), budget, out);
    const bytes = out.reduce((n, s) => n + s.text.length, 0);
    expect(bytes).toBeLessThanOrEqual(64 * 1024);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(budget.cut).toBeGreaterThan(0);
    // Every decoded byte maps back into the buffer.
    for (const s of out) for (const o of s.offsets!) expect(o).toBeGreaterThanOrEqual(0);
  });

  it('hostile input: a line of escaped quotes that never closes, before a join, is not re-read from every quote', () => {
    // Each `\"` would start a literal that reads up to 2 KB again: without the work allowance,
    // two megabytes of them cost about two billion byte reads.
    const budget = createViewBudget();
    const out: Parameters<typeof stringConcatSegments>[2] = [];
    stringConcatSegments(Buffer.from(`x = "${'\\"'.repeat(1_000_000)} + "abcdefgh" + "ijklmnop"\n`), budget, out);
    expect(budget.cut).toBeGreaterThan(0);
  });
});
